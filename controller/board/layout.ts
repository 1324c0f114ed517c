/**
 * Compartment numbers (1..N, what residents and staff see) ↔ board address + channel
 * (what the wire speaks). Compartments are numbered across boards in address order:
 * with 2x12, compartment 13 is board 2 channel 1.
 */
import type { Layout } from '../config.js';

export interface Place {
  compartment: number;
  addr: number;
  channel: number;
}

export class CompartmentMap {
  readonly places: readonly Place[];
  private readonly byAddrChannel = new Map<string, Place>();

  constructor(layout: Layout) {
    const places: Place[] = [];
    for (const board of layout.boards) {
      for (let channel = 1; channel <= board.channels; channel++) {
        const place = { compartment: places.length + 1, addr: board.addr, channel };
        places.push(place);
        this.byAddrChannel.set(`${board.addr}:${channel}`, place);
      }
    }
    this.places = places;
  }

  get count(): number {
    return this.places.length;
  }

  place(compartment: number): Place | undefined {
    return Number.isInteger(compartment) ? this.places[compartment - 1] : undefined;
  }

  at(addr: number, channel: number): Place | undefined {
    return this.byAddrChannel.get(`${addr}:${channel}`);
  }
}
