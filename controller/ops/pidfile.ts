/**
 * DATA_DIR/controller.pid while the controller runs, so that a restore (or anything else that must not run
 * beside it) can tell. A file left by a crash names a process that no longer exists and is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';

export const PID_FILE = 'controller.pid';

export function writePidFile(dataDir: string): () => void {
  const file = path.join(dataDir, PID_FILE);
  fs.writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** The pid of a live controller on dataDir (not this process), or null. */
export function runningController(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: it exists but belongs to another user (the service's), so it is running
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
