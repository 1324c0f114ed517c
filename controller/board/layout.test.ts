import { describe, expect, it } from 'vitest';
import { CompartmentMap } from './layout.js';

describe('CompartmentMap', () => {
  it('numbers compartments across boards in address order', () => {
    const map = new CompartmentMap({
      boards: [
        { addr: 1, channels: 12 },
        { addr: 2, channels: 12 },
      ],
    });
    expect(map.count).toBe(24);
    expect(map.place(1)).toEqual({ compartment: 1, addr: 1, channel: 1 });
    expect(map.place(12)).toEqual({ compartment: 12, addr: 1, channel: 12 });
    expect(map.place(13)).toEqual({ compartment: 13, addr: 2, channel: 1 });
    expect(map.at(2, 12)?.compartment).toBe(24);
  });

  it('has no compartment 0, 25 or 1.5', () => {
    const map = new CompartmentMap({ boards: [{ addr: 1, channels: 24 }] });
    expect(map.place(0)).toBeUndefined();
    expect(map.place(25)).toBeUndefined();
    expect(map.place(1.5)).toBeUndefined();
    expect(map.at(1, 25)).toBeUndefined();
  });
});
