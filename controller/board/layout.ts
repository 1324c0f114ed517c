/**
 * Compartment numbers (1..N, painted on the doors: what residents and staff see) ↔ board address +
 * channel (what the wire speaks). Without a layout file, compartments are numbered across boards in
 * address order (with 2x12, compartment 13 is board 2 channel 1); with one (LOCK_LAYOUT_FILE), each
 * compartment sits wherever the cabinet's maker wired it, and channels without a door have none.
 */
import type { Layout } from '../config.js';

export interface Place {
  compartment: number;
  addr: number;
  channel: number;
}

/** Every compartment's place, in compartment order: the layout file's mapping, or boards in order. */
export function layoutPlaces(layout: Layout): Place[] {
  if (layout.compartments) return [...layout.compartments].sort((a, b) => a.compartment - b.compartment);
  const places: Place[] = [];
  for (const board of layout.boards) {
    for (let channel = 1; channel <= board.channels; channel++) places.push({ compartment: places.length + 1, addr: board.addr, channel });
  }
  return places;
}

export class CompartmentMap {
  readonly places: readonly Place[];
  private readonly byAddrChannel = new Map<string, Place>();

  constructor(layout: Layout) {
    this.places = layoutPlaces(layout);
    for (const place of this.places) this.byAddrChannel.set(`${place.addr}:${place.channel}`, place);
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
