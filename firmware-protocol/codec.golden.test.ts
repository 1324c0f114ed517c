/**
 * Golden frames: every message kind in both directions, written out as literal text.
 * encode(message) must give exactly the literal, and decode(literal) exactly the message.
 * If one of these changes, the wire format changed: update PROTOCOL.md and bump the protocol version.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeLine } from './codec.js';
import type { Message } from './messages.js';
import { isCommand, isEvent, isReply, replyVerb } from './messages.js';

const GOLDEN: [string, string, Message][] = [
  ['IDENT', '>01 0000 IDENT*714F', { kind: 'ident', addr: 1, seq: 0x0000 }],
  ['IDENT, top address and seq', '>1F FFFF IDENT*DBC5', { kind: 'ident', addr: 31, seq: 0xffff }],
  ['STATUS', '>02 9C42 STATUS*35F8', { kind: 'status', addr: 2, seq: 0x9c42 }],
  ['UNLOCK default pulse', '>01 9C43 UNLOCK 7 300*7B8B', { kind: 'unlock', addr: 1, seq: 0x9c43, channel: 7, pulseMs: 300 }],
  ['UNLOCK shortest pulse, first channel', '>1F 00FF UNLOCK 1 100*0245', { kind: 'unlock', addr: 31, seq: 0x00ff, channel: 1, pulseMs: 100 }],
  ['UNLOCK longest pulse, last channel', '>0A ABCD UNLOCK 48 2000*39E4', { kind: 'unlock', addr: 10, seq: 0xabcd, channel: 48, pulseMs: 2000 }],
  ['LED OFF', '>01 0010 LED 24 OFF*7E2E', { kind: 'led', addr: 1, seq: 0x0010, channel: 24, mode: 'OFF' }],
  ['LED ON', '>01 0011 LED 3 ON*E3D2', { kind: 'led', addr: 1, seq: 0x0011, channel: 3, mode: 'ON' }],
  ['LED BLINK', '>01 0012 LED 12 BLINK*DAD3', { kind: 'led', addr: 1, seq: 0x0012, channel: 12, mode: 'BLINK' }],
  [
    'ACK IDENT',
    '<01 9C41 ACK IDENT 1 LB24-1.0.3 24*53CE',
    { kind: 'ack-ident', addr: 1, seq: 0x9c41, protocol: 1, firmware: 'LB24-1.0.3', channels: 24 },
  ],
  [
    'ACK STATUS, 24 channels mixed',
    '<01 9C42 ACK STATUS 0102 CCCCCCOCCCCCCCCCCCCCCCCO 000000100001000000000000 --O--------------------S*F712',
    {
      kind: 'ack-status',
      addr: 1,
      seq: 0x9c42,
      eventCounter: 0x0102,
      doors: ['C', 'C', 'C', 'C', 'C', 'C', 'O', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'C', 'O'],
      items: [
        false,
        false,
        false,
        false,
        false,
        false,
        true,
        false,
        false,
        false,
        false,
        true,
        false,
        false,
        false,
        false,
        false,
        false,
        false,
        false,
        false,
        false,
        false,
        false,
      ],
      faults: [
        'NONE',
        'NONE',
        'COIL_OPEN',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'NONE',
        'COIL_SHORT',
      ],
    },
  ],
  [
    'ACK STATUS, one channel',
    '<03 0005 ACK STATUS FFFF O 1 S*5DE6',
    { kind: 'ack-status', addr: 3, seq: 0x0005, eventCounter: 0xffff, doors: ['O'], items: [true], faults: ['COIL_SHORT'] },
  ],
  ['ACK UNLOCK', '<01 9C43 ACK UNLOCK 7*3254', { kind: 'ack-unlock', addr: 1, seq: 0x9c43, channel: 7, duplicate: false }],
  ['ACK UNLOCK DUP', '<01 9C43 ACK UNLOCK 7 DUP*46C5', { kind: 'ack-unlock', addr: 1, seq: 0x9c43, channel: 7, duplicate: true }],
  ['ACK LED', '<01 0012 ACK LED 12 BLINK*A17B', { kind: 'ack-led', addr: 1, seq: 0x0012, channel: 12, mode: 'BLINK' }],
  ['NAK UNKNOWN_VERB', '<01 0020 NAK OPENALL UNKNOWN_VERB*E620', { kind: 'nak', addr: 1, seq: 0x0020, verb: 'OPENALL', reason: 'UNKNOWN_VERB' }],
  ['NAK BAD_ARGS', '<01 0021 NAK LED BAD_ARGS*759D', { kind: 'nak', addr: 1, seq: 0x0021, verb: 'LED', reason: 'BAD_ARGS' }],
  ['NAK BAD_CHANNEL', '<01 0022 NAK UNLOCK BAD_CHANNEL*C47B', { kind: 'nak', addr: 1, seq: 0x0022, verb: 'UNLOCK', reason: 'BAD_CHANNEL' }],
  ['NAK COIL_FAULT', '<01 0023 NAK UNLOCK COIL_FAULT*6DAB', { kind: 'nak', addr: 1, seq: 0x0023, verb: 'UNLOCK', reason: 'COIL_FAULT' }],
  ['NAK BUSY', '<01 0024 NAK UNLOCK BUSY*0F7E', { kind: 'nak', addr: 1, seq: 0x0024, verb: 'UNLOCK', reason: 'BUSY' }],
  ['DOOR open', '<01 0001 DOOR 7 O*19BD', { kind: 'door', addr: 1, seq: 0x0001, channel: 7, level: 'O' }],
  ['DOOR closed', '<01 0003 DOOR 7 C*D61C', { kind: 'door', addr: 1, seq: 0x0003, channel: 7, level: 'C' }],
  ['ITEM removed', '<01 0002 ITEM 7 0*06F3', { kind: 'item', addr: 1, seq: 0x0002, channel: 7, present: false }],
  ['ITEM present', '<04 0A00 ITEM 48 1*487F', { kind: 'item', addr: 4, seq: 0x0a00, channel: 48, present: true }],
  ['BOOT POWERON', '<01 0000 BOOT POWERON*80E9', { kind: 'boot', addr: 1, seq: 0x0000, reason: 'POWERON' }],
  ['BOOT WATCHDOG', '<02 0000 BOOT WATCHDOG*D014', { kind: 'boot', addr: 2, seq: 0x0000, reason: 'WATCHDOG' }],
  ['BOOT BROWNOUT', '<03 0000 BOOT BROWNOUT*FCC2', { kind: 'boot', addr: 3, seq: 0x0000, reason: 'BROWNOUT' }],
  ['BOOT RESET', '<04 0000 BOOT RESET*7A78', { kind: 'boot', addr: 4, seq: 0x0000, reason: 'RESET' }],
  ['FAULT COIL_OPEN', '<01 0004 FAULT 3 COIL_OPEN*81AB', { kind: 'fault', addr: 1, seq: 0x0004, channel: 3, fault: 'COIL_OPEN' }],
  ['FAULT COIL_SHORT', '<01 0005 FAULT 24 COIL_SHORT*774C', { kind: 'fault', addr: 1, seq: 0x0005, channel: 24, fault: 'COIL_SHORT' }],
  ['FAULT cleared', '<01 0006 FAULT 3 NONE*86FB', { kind: 'fault', addr: 1, seq: 0x0006, channel: 3, fault: 'NONE' }],
];

describe('golden frames', () => {
  it.each(GOLDEN)('%s: encode gives the literal frame', (_name, frame, message) => {
    expect(encode(message)).toBe(frame);
    expect(encodeLine(message)).toBe(`${frame}\n`);
  });

  it.each(GOLDEN)('%s: decode gives the exact message', (_name, frame, message) => {
    expect(decode(frame)).toEqual({ ok: true, message, noise: 0 });
    expect(decode(`${frame}\n`)).toEqual({ ok: true, message, noise: 0 });
    expect(decode(`${frame}\r\n`)).toEqual({ ok: true, message, noise: 0 });
  });

  it('covers every message kind, commands with ">" and everything else with "<"', () => {
    const kinds = new Set(GOLDEN.map(([, , m]) => m.kind));
    expect([...kinds].sort()).toEqual([
      'ack-ident',
      'ack-led',
      'ack-status',
      'ack-unlock',
      'boot',
      'door',
      'fault',
      'ident',
      'item',
      'led',
      'nak',
      'status',
      'unlock',
    ]);
    for (const [, frame, m] of GOLDEN) {
      expect(frame[0]).toBe(isCommand(m) ? '>' : '<');
      expect(isCommand(m) || isReply(m) || isEvent(m)).toBe(true);
      expect(Number(isCommand(m)) + Number(isReply(m)) + Number(isEvent(m))).toBe(1);
    }
  });

  it('names the command a reply answers', () => {
    const verbs = GOLDEN.map(([, , m]) => m)
      .filter(isReply)
      .map(replyVerb);
    expect(verbs).toEqual(['IDENT', 'STATUS', 'STATUS', 'UNLOCK', 'UNLOCK', 'LED', 'OPENALL', 'LED', 'UNLOCK', 'UNLOCK', 'UNLOCK']);
  });
});
