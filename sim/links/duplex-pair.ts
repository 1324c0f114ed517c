/**
 * Two connected in-memory Duplex streams: what one writes, the other reads. Node 20 has no
 * stream.duplexPair, so this builds one. Ending or destroying one side ends the other's readable
 * side, as closing a socket would.
 */
import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const other = (self: Duplex): Duplex => (sides[0] === self ? sides[1]! : sides[0]!);
  const endOther = (self: Duplex): void => {
    const o = other(self);
    if (!o.destroyed && !o.readableEnded) o.push(null);
  };
  const make = (): Duplex => {
    const side: Duplex = new Duplex({
      // Like a TCP socket: when the other side ends, this side ends too and then closes.
      allowHalfOpen: false,
      read() {
        /* data is pushed by the other side's write */
      },
      write(chunk: Buffer, _enc, cb) {
        const o = other(side);
        if (!o.destroyed && !o.readableEnded) o.push(chunk);
        cb();
      },
      final(cb) {
        endOther(side);
        cb();
      },
      destroy(err, cb) {
        endOther(side);
        cb(err);
      },
    });
    return side;
  };
  sides.push(make(), make());
  return [sides[0]!, sides[1]!];
}
