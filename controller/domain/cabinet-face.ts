/**
 * How the doors sit on the cabinet's face, as they are numbered on the real cabinet: a grid of columns × rows,
 * numbered along each row from the top left (`rows`: 1 2 3 … across, then the next row) or down each column from the
 * top left (`columns`: 1 2 3 … down, then the next column). The kiosk draws the cabinet this way (GET /api/kiosk/info
 * `cabinet`), so the door it marks is where the resident finds it.
 */
export const NUMBERINGS = ['rows', 'columns'] as const;
export type Numbering = (typeof NUMBERINGS)[number];

export interface CabinetFace {
  readonly columns: number;
  readonly rows: number;
  readonly numbering: Numbering;
}

/** The most places a grid may have across or down (a drawing beyond this is no longer a picture of a cabinet). */
export const MAX_GRID_SIDE = 24;

/** Without a setting: 6 doors wide for a cabinet of more than 12 doors, else 4; numbered along the rows. */
export function defaultFace(doors: number): CabinetFace {
  const columns = doors > 12 ? 6 : 4;
  return { columns, rows: Math.max(1, Math.ceil(doors / columns)), numbering: 'rows' };
}

/** Where door `no` (1, 2, …) is drawn: column and row from 1, top left first. */
export function placeOf(face: CabinetFace, no: number): { column: number; row: number } {
  const i = no - 1;
  return face.numbering === 'rows'
    ? { column: (i % face.columns) + 1, row: Math.floor(i / face.columns) + 1 }
    : { column: Math.floor(i / face.rows) + 1, row: (i % face.rows) + 1 };
}
