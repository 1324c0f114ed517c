/**
 * The simulated cabinet, for the controller (embedded with LOCK_PORT=sim) and integration tests.
 *
 *   const sim = new SimCabinet({ layout: '2x12' });
 *   const stream = sim.connectInProcess();           // or await sim.listenTcp('127.0.0.1', 0)
 *   const panel = await startPanelServer(sim, { port: 0 });
 */
export {
  SimCabinet,
  type BoardState,
  type CabinetSnapshot,
  type ChangeReason,
  type CompartmentState,
  type DisconnectMode,
  type EndpointState,
  type FrameFate,
  type FrameLogEntry,
  type SimChange,
  type SimCounters,
  type SimEventMap,
  type UnlockRecord,
} from './cabinet.js';
export { BoardFirmware, type BoardHardware, type CommandOutcome } from './board.js';
export {
  DEFAULT_LAYOUT,
  DEFAULT_SPRING_MS,
  parseLayout,
  type CompartmentFaultPatch,
  type CompartmentFaults,
  type FaultPatch,
  type Layout,
  type LinkFaults,
  type Polarity,
  type SimOptions,
} from './config.js';
export { SimError, SimErrorCodes, isSimError, type SimErrorCode } from './errors.js';
export { duplexPair } from './links/duplex-pair.js';
export type { LinkInfo, LinkKind, LinkRole } from './links/line-link.js';
export type { SerialEndpoint } from './links/serial.js';
export {
  createPanelApp,
  startPanelServer,
  DEFAULT_PANEL_HOST,
  DEFAULT_PANEL_PORT,
  type PanelMessage,
  type PanelOptions,
  type PanelServer,
} from './panel/server.js';
