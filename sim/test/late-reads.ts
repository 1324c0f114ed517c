/**
 * Test helper: a SerialPort class whose first opened port holds its reading back until `release()` is called. A
 * test kills socat meanwhile, so that the first read comes after Linux hung the tty up: it then reads 0 bytes for
 * ever and serialport reports nothing, which is what a pulled USB adapter does to a port nobody writes to. Ports
 * opened later read as usual.
 */
import { SerialPort } from 'serialport';

/** What both the simulator's and the controller's serial endpoints take as their port class. */
export type PortClass = new (options: ConstructorParameters<typeof SerialPort>[0]) => SerialPort;

export function firstPortReadsLate(): { Port: PortClass; release: () => void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let opened = 0;
  const Port = class extends SerialPort {
    readonly late: boolean;
    constructor(options: ConstructorParameters<typeof SerialPort>[0]) {
      super(options);
      this.late = ++opened === 1;
    }
    override _read(bytes: number): void {
      if (!this.late) {
        super._read(bytes);
        return;
      }
      released.then(
        () => super._read(bytes),
        () => undefined,
      );
    }
  };
  return { Port, release: () => release() };
}
