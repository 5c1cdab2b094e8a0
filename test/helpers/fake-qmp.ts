// A fake QEMU monitor for unit tests: the real greeting and capabilities handshake, then the test's own answers.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Handler = (
  cmd: { execute: string; arguments?: Record<string, unknown>; id?: unknown },
  sock: Socket,
) => unknown;

/** A fake QEMU monitor: greeting, then one JSON reply per command line, in whatever order the handler chooses. */
export async function fakeQemu(
  handler: Handler,
): Promise<{ path: string; server: Server; sockets: Socket[]; seen: string[]; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'qmp-test-'));
  const path = join(dir, 'qmp.sock');
  const sockets: Socket[] = [];
  const seen: string[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    let negotiated = false;
    sock.write(
      `${JSON.stringify({
        QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: '' }, capabilities: ['oob'] },
      })}\n`,
    );
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const cmd = JSON.parse(line) as { execute: string; id?: unknown; arguments?: Record<string, unknown> };
        seen.push(cmd.execute);
        if (!negotiated) {
          if (cmd.execute !== 'qmp_capabilities') {
            sock.write(
              `${JSON.stringify({ error: { class: 'CommandNotFound', desc: 'Expecting capabilities negotiation with qmp_capabilities' }, id: cmd.id })}\n`,
            );
            continue;
          }
          negotiated = true;
          sock.write(`${JSON.stringify({ return: {}, id: cmd.id })}\n`);
          continue;
        }
        const out = handler(cmd, sock);
        if (out !== undefined) sock.write(`${JSON.stringify({ ...(out as object), id: cmd.id })}\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, () => r()));
  return {
    path,
    server,
    sockets,
    seen,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
