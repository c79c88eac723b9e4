/**
 * @file `tensorgrad playground`: serves the browser app (dist/playground/, built by
 * scripts/build-playground.ts) from 127.0.0.1 with the COOP/COEP headers that make the page
 * cross-origin isolated, so wasm runs on threads there.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";
import { intOption, parse } from "./args.ts";
import { packageRoot } from "./bench.ts";

export const PLAYGROUND_USAGE = `usage: tensorgrad playground [--port N] [--open]

Serves the browser playground (train MNIST, draw digits, load and save models) on 127.0.0.1.

options:
  --port N     the port (default 8080; 0 picks a free one)
  --open       open the page in the default browser
  -h, --help   this help`;

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".map": "application/json" };

/** Serves `dir` on 127.0.0.1:`port` (COOP/COEP on every response); resolves with the server and its URL. */
export function servePlayground(dir: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^([/\\])+/, "");
    const file = join(dir, path === "" ? "index.html" : path);
    if (path.startsWith("..") || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res
      .writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
        "cache-control": "no-cache",
      })
      .end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }));
  });
}

export async function playground(argv: readonly string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: "string" }, open: { type: "boolean" } }, PLAYGROUND_USAGE);
  if (values.help) {
    console.log(PLAYGROUND_USAGE);
    return 0;
  }
  const port = intOption(values.port, "port", PLAYGROUND_USAGE, { min: 0 }) ?? 8080;
  const root = packageRoot();
  const dir = join(root, "dist", "playground");
  const script = join(root, "scripts", "build-playground.ts");
  if (existsSync(script)) {
    // a checkout: rebuild when the sources changed
    const built = spawnSync(process.execPath, ["--import", "tsx", script, "--if-needed"], { stdio: "inherit", cwd: root });
    if (built.status !== 0) throw new Error("building the playground failed (node --import tsx scripts/build-playground.ts)");
  }
  if (!existsSync(join(dir, "index.html"))) throw new Error(`${dir} is missing: build it with npm run build`);
  const { url } = await servePlayground(dir, port);
  console.log(`tensorgrad playground: ${url} (Ctrl-C stops it)`);
  if (values.open) {
    const [cmd, ...args] = process.platform === "darwin" ? ["open"] : process.platform === "win32" ? ["cmd", "/c", "start", ""] : ["xdg-open"];
    spawn(cmd!, [...args, url], { stdio: "ignore", detached: true })
      .on("error", () => console.log(`(could not open a browser: open ${url} yourself)`))
      .unref();
  }
  return 0;
}
