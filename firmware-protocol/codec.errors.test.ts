/**
 * What decode refuses and why, and what encode refuses. A board NAKs a command only when the error
 * carries addr/seq/verb (the CRC matched and the header parsed), so those fields are asserted too.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, EncodeError, type DecodeErrorCode } from './codec.js';
import { crcHex } from './crc16.js';
import type { Message } from './messages.js';

/** A frame with a correct CRC around any body, so that the check under test is the one after the CRC. */
const framed = (body: string): string => `${body}*${crcHex(body)}`;

function errorOf(line: string) {
  const r = decode(line);
  if (r.ok) throw new Error(`expected ${JSON.stringify(line)} to be refused, got ${JSON.stringify(r.message)}`);
  return r.error;
}

describe('decode: framing and CRC', () => {
  it('refuses a wrong CRC', () => {
    expect(errorOf('>01 0000 STATUS*5793')).toMatchObject({ code: 'BAD_CRC', noise: 0 });
    expect(errorOf('>01 0000 STATUS*5793').addr).toBeUndefined();
  });

  it('refuses a CRC in lowercase hex (exactly one spelling per frame)', () => {
    expect(decode('>01 9C43 UNLOCK 7 300*7B8B').ok).toBe(true);
    expect(errorOf('>01 9C43 UNLOCK 7 300*7b8b').code).toBe('MALFORMED');
  });

  it('refuses a frame without "*" before the CRC, or without a CRC', () => {
    expect(errorOf('>01 0000 STATUS5792').code).toBe('MALFORMED');
    expect(errorOf('>01 0000 STATUS').code).toBe('MALFORMED');
    expect(errorOf('>01 0000 STATUS*').code).toBe('MALFORMED');
    expect(errorOf('>01 0000 STATUS*579').code).toBe('MALFORMED');
  });

  it('refuses anything after the CRC', () => {
    expect(errorOf('>01 0000 STATUS*5792 ').code).toBe('MALFORMED');
    expect(errorOf('>01 0000 STATUS*5792X').code).toBe('MALFORMED');
    expect(errorOf('>01 0000 STATUS*5792*5792').code).toBe('BAD_CRC'); // the CRC is checked over everything before the last '*'
    expect(errorOf('>01 0000 STATUS*5792\r\r\n').code).toBe('MALFORMED');
  });

  it('reports a line with no start marker as noise', () => {
    expect(errorOf('hello world')).toEqual({ code: 'NO_FRAME', detail: 'no start marker', noise: 11 });
    expect(errorOf('')).toMatchObject({ code: 'NO_FRAME', noise: 0 });
    expect(errorOf('\r\n')).toMatchObject({ code: 'NO_FRAME', noise: 0 });
  });

  it('takes the last start marker: bytes before it are counted as noise', () => {
    expect(decode('\x00\xff#>01 0000 STATUS*5792')).toEqual({ ok: true, message: { kind: 'status', addr: 1, seq: 0 }, noise: 3 });
    expect(decode('<01 0000 >01 0000 STATUS*5792\r\n')).toMatchObject({ ok: true, noise: 9 });
    expect(errorOf('>01 0000 STATUS*5792>').code).toBe('MALFORMED');
  });

  it('refuses lowercase hex, short fields and stray spaces in the header', () => {
    expect(errorOf(framed('>1f 0000 STATUS')).code).toBe('MALFORMED');
    expect(errorOf(framed('>01 9c42 STATUS')).code).toBe('MALFORMED');
    expect(errorOf(framed('>1 0000 STATUS')).code).toBe('MALFORMED');
    expect(errorOf(framed('>01 000 STATUS')).code).toBe('MALFORMED');
    expect(errorOf(framed('>01  0000 STATUS')).code).toBe('MALFORMED');
    expect(errorOf(framed('> 01 0000 STATUS')).code).toBe('MALFORMED');
    expect(errorOf(framed('>01 0000 status')).code).toBe('MALFORMED');
    expect(errorOf(framed('>01 0000')).code).toBe('MALFORMED');
  });

  it('limits a line to 256 bytes on the wire, CR and LF included', () => {
    const frame = '>01 0000 STATUS*5792';
    const pad = (n: number) => 'x'.repeat(n - frame.length);
    expect(decode(`${pad(255)}${frame}\n`)).toMatchObject({ ok: true, noise: 255 - frame.length });
    expect(decode(`${pad(255)}${frame}`)).toMatchObject({ ok: true });
    expect(errorOf(`${pad(256)}${frame}\n`)).toMatchObject({ code: 'TOO_LONG' });
    expect(decode(`${pad(254)}${frame}\r\n`)).toMatchObject({ ok: true });
    expect(errorOf(`${pad(255)}${frame}\r\n`)).toMatchObject({ code: 'TOO_LONG' });
  });
});

describe('decode: addresses', () => {
  it('refuses the broadcast address 00 in any frame, even an UNLOCK with a good CRC', () => {
    const e = errorOf(framed('>00 0001 UNLOCK 7 300'));
    expect(e.code).toBe('BAD_ADDRESS');
    expect(e.addr).toBeUndefined();
    expect(errorOf(framed('<00 0001 ACK UNLOCK 7')).code).toBe('BAD_ADDRESS');
    expect(errorOf(framed('>00 0001 STATUS')).code).toBe('BAD_ADDRESS');
  });

  it('refuses addresses above 1F', () => {
    expect(decode(framed('>1F 0001 STATUS')).ok).toBe(true);
    expect(errorOf(framed('>20 0001 STATUS'))).toMatchObject({ code: 'BAD_ADDRESS', seq: 1, verb: 'STATUS' });
    expect(errorOf(framed('>FF 0001 STATUS')).code).toBe('BAD_ADDRESS');
  });
});

describe('decode: verbs and arguments (CRC good, header good: the error names addr, seq and verb)', () => {
  const refused = (body: string, code: DecodeErrorCode) => {
    const e = errorOf(framed(body));
    expect(e.code).toBe(code);
    return e;
  };

  it('refuses an unknown verb towards the board, with what a NAK needs', () => {
    expect(refused('>01 0042 OPENALL', 'UNKNOWN_VERB')).toMatchObject({ addr: 1, seq: 0x42, verb: 'OPENALL', direction: 'toBoard' });
    expect(refused('>03 1234 ACK UNLOCK 7', 'UNKNOWN_VERB')).toMatchObject({ addr: 3, seq: 0x1234, verb: 'ACK', direction: 'toBoard' });
  });

  it('refuses an unknown verb towards the controller', () => {
    expect(refused('<01 0042 HELLO 1', 'UNKNOWN_VERB')).toMatchObject({ addr: 1, seq: 0x42, verb: 'HELLO', direction: 'toController' });
    expect(refused('<02 0043 UNLOCK 7 300', 'UNKNOWN_VERB')).toMatchObject({ addr: 2, seq: 0x43, verb: 'UNLOCK', direction: 'toController' });
  });

  it('refuses UNLOCK of channel 0 and channel 49 as BAD_CHANNEL', () => {
    expect(refused('>01 0007 UNLOCK 0 300', 'BAD_CHANNEL')).toMatchObject({ addr: 1, seq: 7, verb: 'UNLOCK' });
    expect(refused('>01 0008 UNLOCK 49 300', 'BAD_CHANNEL')).toMatchObject({ addr: 1, seq: 8, verb: 'UNLOCK' });
    expect(refused('>01 0009 LED 0 ON', 'BAD_CHANNEL').verb).toBe('LED');
    expect(refused('<01 0009 DOOR 49 O', 'BAD_CHANNEL').verb).toBe('DOOR');
    expect(decode(framed('>01 0008 UNLOCK 48 300')).ok).toBe(true);
    expect(decode(framed('>01 0008 UNLOCK 1 300')).ok).toBe(true);
  });

  it('refuses pulse lengths outside 100..2000', () => {
    expect(refused('>01 0001 UNLOCK 7 99', 'BAD_ARGS')).toMatchObject({ addr: 1, seq: 1, verb: 'UNLOCK' });
    expect(refused('>01 0001 UNLOCK 7 2001', 'BAD_ARGS').verb).toBe('UNLOCK');
    expect(refused('>01 0001 UNLOCK 7 0', 'BAD_ARGS').verb).toBe('UNLOCK');
    expect(refused('>01 0001 UNLOCK 7 -300', 'BAD_ARGS').verb).toBe('UNLOCK');
    expect(refused('>01 0001 UNLOCK 7 300.0', 'BAD_ARGS').verb).toBe('UNLOCK');
    expect(decode(framed('>01 0001 UNLOCK 7 100')).ok).toBe(true);
    expect(decode(framed('>01 0001 UNLOCK 7 2000')).ok).toBe(true);
  });

  it('refuses leading zeros (one spelling per number)', () => {
    refused('>01 0001 UNLOCK 07 300', 'BAD_ARGS');
    refused('>01 0001 UNLOCK 7 0300', 'BAD_ARGS');
    refused('>01 0001 UNLOCK 00 300', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 01 LB24-1.0.3 24', 'BAD_ARGS');
    refused('<01 0001 DOOR 007 O', 'BAD_ARGS');
  });

  it('refuses double spaces, trailing spaces and control characters between arguments', () => {
    expect(refused('>01 0001 UNLOCK  7 300', 'BAD_ARGS')).toMatchObject({ addr: 1, seq: 1, verb: 'UNLOCK' });
    refused('>01 0001 UNLOCK 7  300', 'BAD_ARGS');
    refused('>01 0001 UNLOCK 7 300 ', 'BAD_ARGS');
    refused('>01 0001 UNLOCK 7\t300', 'BAD_ARGS');
    refused('>01 0001 STATUS ', 'BAD_ARGS');
  });

  it('refuses extra and missing arguments', () => {
    refused('>01 0001 IDENT 1', 'BAD_ARGS');
    refused('>01 0001 STATUS 1', 'BAD_ARGS');
    refused('>01 0001 UNLOCK 7', 'BAD_ARGS');
    refused('>01 0001 UNLOCK', 'BAD_ARGS');
    refused('>01 0001 UNLOCK 7 300 300', 'BAD_ARGS');
    refused('>01 0001 LED 7', 'BAD_ARGS');
    refused('>01 0001 LED 7 ON OFF', 'BAD_ARGS');
    refused('<01 0001 ACK', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 1 LB24-1.0.3', 'BAD_ARGS');
    refused('<01 0001 ACK UNLOCK', 'BAD_ARGS');
    refused('<01 0001 ACK UNLOCK 7 DUP DUP', 'BAD_ARGS');
    refused('<01 0001 ACK LED 7', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 0000 CC 00', 'BAD_ARGS');
    refused('<01 0001 NAK UNLOCK', 'BAD_ARGS');
    refused('<01 0001 DOOR 7', 'BAD_ARGS');
    refused('<01 0001 ITEM 7 1 1', 'BAD_ARGS');
    refused('<01 0000 BOOT', 'BAD_ARGS');
    refused('<01 0001 FAULT 7', 'BAD_ARGS');
  });

  it('refuses values that are not in the vocabulary', () => {
    refused('>01 0001 LED 7 on', 'BAD_ARGS');
    refused('>01 0001 LED 7 FLASH', 'BAD_ARGS');
    refused('<01 0001 ACK UNLOCK 7 DIP', 'BAD_ARGS');
    refused('<01 0001 ACK OPEN 7', 'BAD_ARGS');
    refused('<01 0001 NAK UNLOCK TIRED', 'BAD_ARGS');
    refused('<01 0001 NAK unlock BUSY', 'BAD_ARGS');
    refused('<01 0001 DOOR 7 X', 'BAD_ARGS');
    refused('<01 0001 ITEM 7 2', 'BAD_ARGS');
    refused('<01 0000 BOOT COSMIC_RAY', 'BAD_ARGS');
    refused('<01 0001 FAULT 7 SMOKE', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 0 LB24 24', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 1 LB24 49', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 1 LB24 0', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 1 LB24/1 24', 'BAD_ARGS');
    refused('<01 0001 ACK IDENT 1 ABCDEFGHIJKLMNOPQRSTUVWXY 24', 'BAD_ARGS');
  });

  it('refuses a STATUS reply whose per-channel fields disagree or hold unknown letters', () => {
    expect(decode(framed('<01 0001 ACK STATUS 0000 CO 01 -S')).ok).toBe(true);
    refused('<01 0001 ACK STATUS 0000 CO 0 -S', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 0000 CO 01 -', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 0000 CX 01 --', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 0000 CO 02 --', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 0000 CO 01 -X', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 000 CO 01 --', 'BAD_ARGS');
    refused('<01 0001 ACK STATUS 00ff CO 01 --', 'BAD_ARGS');
    refused(`<01 0001 ACK STATUS 0000 ${'C'.repeat(49)} ${'0'.repeat(49)} ${'-'.repeat(49)}`, 'BAD_ARGS');
    expect(decode(framed(`<01 0001 ACK STATUS 0000 ${'C'.repeat(48)} ${'0'.repeat(48)} ${'-'.repeat(48)}`)).ok).toBe(true);
  });
});

describe('encode refuses what is not valid on the wire', () => {
  const unlock = { kind: 'unlock', addr: 1, seq: 1, channel: 7, pulseMs: 300 } as const;
  const codeOf = (m: Message): string => {
    try {
      encode(m);
    } catch (e) {
      expect(e).toBeInstanceOf(EncodeError);
      return (e as EncodeError).code;
    }
    throw new Error(`encode accepted ${JSON.stringify(m)}`);
  };

  it('refuses an unlock to address 0 (broadcast) or above 31', () => {
    expect(codeOf({ ...unlock, addr: 0 })).toBe('BAD_ADDRESS');
    expect(codeOf({ ...unlock, addr: 32 })).toBe('BAD_ADDRESS');
    expect(codeOf({ ...unlock, addr: 1.5 })).toBe('BAD_ADDRESS');
    expect(() => encode({ ...unlock, addr: 0 })).toThrow(/broadcast/);
  });

  it('refuses channel 0 and channel 49', () => {
    expect(codeOf({ ...unlock, channel: 0 })).toBe('BAD_CHANNEL');
    expect(codeOf({ ...unlock, channel: 49 })).toBe('BAD_CHANNEL');
    expect(codeOf({ ...unlock, channel: 2.5 })).toBe('BAD_CHANNEL');
    expect(codeOf({ kind: 'led', addr: 1, seq: 1, channel: 0, mode: 'ON' })).toBe('BAD_CHANNEL');
    expect(codeOf({ kind: 'door', addr: 1, seq: 1, channel: 49, level: 'O' })).toBe('BAD_CHANNEL');
  });

  it('refuses a pulse outside 100..2000 ms', () => {
    expect(codeOf({ ...unlock, pulseMs: 99 })).toBe('BAD_ARGS');
    expect(codeOf({ ...unlock, pulseMs: 2001 })).toBe('BAD_ARGS');
    expect(codeOf({ ...unlock, pulseMs: 300.5 })).toBe('BAD_ARGS');
    expect(codeOf({ ...unlock, pulseMs: Number.NaN })).toBe('BAD_ARGS');
  });

  it('refuses a sequence number outside 0..FFFF', () => {
    expect(codeOf({ ...unlock, seq: -1 })).toBe('BAD_SEQ');
    expect(codeOf({ ...unlock, seq: 0x10000 })).toBe('BAD_SEQ');
  });

  it('refuses malformed replies and events', () => {
    expect(codeOf({ kind: 'nak', addr: 1, seq: 1, verb: 'unlock', reason: 'BUSY' })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'nak', addr: 1, seq: 1, verb: 'UNLOCK', reason: 'TIRED' as never })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'ack-ident', addr: 1, seq: 1, protocol: 1, firmware: 'v 1', channels: 24 })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'ack-ident', addr: 1, seq: 1, protocol: 1, firmware: 'v1', channels: 0 })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'ack-status', addr: 1, seq: 1, eventCounter: 0, doors: ['C', 'O'], items: [false], faults: ['NONE', 'NONE'] })).toBe(
      'BAD_ARGS',
    );
    expect(codeOf({ kind: 'ack-status', addr: 1, seq: 1, eventCounter: 0, doors: [], items: [], faults: [] })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'ack-status', addr: 1, seq: 1, eventCounter: 0x10000, doors: ['C'], items: [false], faults: ['NONE'] })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'led', addr: 1, seq: 1, channel: 1, mode: 'FLASH' as never })).toBe('BAD_ARGS');
    expect(codeOf({ kind: 'boot', addr: 1, seq: 0, reason: 'COSMIC' as never })).toBe('BAD_ARGS');
  });
});

describe('BOOT carries the counter 0000 (PROTOCOL.md §11.1)', () => {
  it('decodes only BOOT 0000; any other counter breaks the verb rule (BAD_ARGS)', () => {
    const body = '<01 0005 BOOT POWERON';
    const r = decode(`${body}*${crcHex(body)}\n`);
    expect(r.ok ? 'decoded' : r.error.code).toBe('BAD_ARGS');
    const good = '<01 0000 BOOT POWERON';
    expect(decode(`${good}*${crcHex(good)}\n`).ok).toBe(true);
  });

  it('refuses to encode a BOOT with another counter', () => {
    expect(() => encode({ kind: 'boot', addr: 1, seq: 5, reason: 'POWERON' })).toThrow(/0000/);
  });
});
