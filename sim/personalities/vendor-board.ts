/**
 * A vendor lock board as the simulator plays it: the same physical cabinet (doors, locks, items,
 * faults: sim/cabinet.ts) behind the family's own frames (firmware-protocol/vendors/<family>.ts).
 * What such a board does, and what it does not:
 *
 * - It answers reads and unlocks addressed to it, and nothing else: no events, no sequence numbers,
 *   no de-duplication (every unlock frame it takes pulses the lock), no indicators.
 * - Its lock reading is the door-switch level of the compartment as the cabinet wires it (the
 *   sim's polarity and stuck switches included): contact closed reads "set" (8A/80 `11`), open
 *   reads "clear" (`00`). So a simulated 8A/80 with polarity nc answers `8A 01 01 00 8A` to
 *   `8A 01 01 11 9B` when the door sprang open, and `8A 01 01 11 9B` when the lock is jammed.
 * - A family whose boards answer an unlock after the pulse (8A/80) answers once the door has had
 *   time to spring open (spring time + 20 ms), with the reading taken then; others answer at once.
 * - A lock with a coil fault takes the frame and answers, but nothing moves.
 * - "All locks" forms are refused with a warning (a real board would open every door; no code of
 *   the controller can send one, which the codec tests prove).
 */
import type { FaultCode, SwitchLevel } from '../../firmware-protocol/index.js';
import { hexBytes, type VendorCodec } from '../../firmware-protocol/vendors/index.js';

export interface VendorBoardHost {
  boards: number;
  channels: number;
  springMs: number;
  online(addr: number): boolean;
  doorLevel(addr: number, channel: number): SwitchLevel;
  coilFault(addr: number, channel: number): FaultCode;
  /** Pulse the lock (the board's own pulse length): counted by the cabinet as an executed unlock. */
  pulse(addr: number, channel: number): void;
  warn(message: string): void;
}

export type VendorOutcome =
  | { fate: 'ok'; reply: () => Uint8Array; afterMs: number; note?: string }
  | { fate: 'undecodable' | 'not-for-me'; note: string };

/** Time the simulated after-pulse board gives the door before it reads the lock, beyond the spring time. */
export const READ_AFTER_SPRING_MS = 20;

export class VendorBoardPersonality {
  constructor(
    readonly codec: VendorCodec,
    private readonly host: VendorBoardHost,
  ) {}

  handle(frame: Uint8Array): VendorOutcome {
    const r = this.codec.decodeCommand(frame);
    if (!r.ok) {
      if (r.error.startsWith('ALL_LOCKS')) this.host.warn(`an "all locks" command arrived and was refused: ${hexBytes(frame)}`);
      return { fate: 'undecodable', note: r.error };
    }
    const c = r.value;
    const { codec, host } = this;
    if (!Number.isInteger(c.board) || c.board < 1 || c.board > host.boards || !host.online(c.board)) {
      return { fate: 'not-for-me', note: `no board ${c.board} online` };
    }
    const readAll = () => Array.from({ length: host.channels }, (_, i) => host.doorLevel(c.board, i + 1) === 'C');
    switch (c.kind) {
      case 'status':
        return { fate: 'ok', afterMs: 0, reply: () => codec.encodeReply({ kind: 'status', board: c.board, set: readAll() }, host.channels) };
      case 'query':
        if (c.lock > host.channels) return { fate: 'not-for-me', note: `lock ${c.lock} is not on board ${c.board}` };
        return {
          fate: 'ok',
          afterMs: 0,
          reply: () =>
            codec.encodeReply({ kind: 'query', board: c.board, lock: c.lock, set: host.doorLevel(c.board, c.lock) === 'C' }, host.channels),
        };
      case 'unlock': {
        if (c.lock > host.channels) return { fate: 'not-for-me', note: `lock ${c.lock} is not on board ${c.board}` };
        const fault = host.coilFault(c.board, c.lock);
        if (fault === 'NONE') host.pulse(c.board, c.lock);
        const afterMs = codec.unlockReply === 'after-pulse' ? host.springMs + READ_AFTER_SPRING_MS : 0;
        return {
          fate: 'ok',
          afterMs,
          ...(fault === 'NONE' ? {} : { note: `coil ${fault}: nothing moved` }),
          reply: () => codec.encodeReply({ kind: 'unlock', board: c.board, lock: c.lock, set: readAll() }, host.channels),
        };
      }
    }
  }
}
