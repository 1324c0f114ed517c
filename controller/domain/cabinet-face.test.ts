import { describe, expect, it } from 'vitest';
import { defaultFace, placeOf } from './cabinet-face.js';

describe('how the doors sit on the cabinet', () => {
  it('numbered along the rows: 1 2 3 … across, then the next row down', () => {
    const face = { columns: 6, rows: 4, numbering: 'rows' } as const;
    expect([1, 6, 7, 24].map((no) => placeOf(face, no))).toEqual([
      { column: 1, row: 1 },
      { column: 6, row: 1 },
      { column: 1, row: 2 },
      { column: 6, row: 4 },
    ]);
  });

  it('numbered down the columns: 1 2 3 … down, then the next column to the right', () => {
    const face = { columns: 4, rows: 6, numbering: 'columns' } as const;
    expect([1, 6, 7, 24].map((no) => placeOf(face, no))).toEqual([
      { column: 1, row: 1 },
      { column: 1, row: 6 },
      { column: 2, row: 1 },
      { column: 4, row: 6 },
    ]);
  });

  it('without a setting: 6 wide above 12 doors, else 4, with a row for every door', () => {
    expect(defaultFace(24)).toEqual({ columns: 6, rows: 4, numbering: 'rows' });
    expect(defaultFace(12)).toEqual({ columns: 4, rows: 3, numbering: 'rows' });
    expect(defaultFace(25)).toEqual({ columns: 6, rows: 5, numbering: 'rows' });
  });
});
