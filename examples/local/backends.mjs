// Tiny HTTP backends for trying `evenkeel serve` on one machine (docs/getting-started.md).
// Usage: node examples/local/backends.mjs [PORT...]   (default: 9001 9002 9003)
// Each answers every request with one line naming itself, and /healthz with "ok".
// Ctrl-C stops them.
import http from 'node:http';

const ports = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [9001, 9002, 9003];
const servers = ports.map((port, i) => {
  const name = `127.0.0.1:${port}`;
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    if (req.url === '/healthz') return void res.end('ok\n');
    res.end(`hello from ${name} (${req.method} ${req.url})\n`);
  });
  server.listen(port, '127.0.0.1', () => console.log(`backend listening on http://${name}`));
  return server;
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const s of servers) s.close();
    // Idle keep-alive connections from evenkeel would otherwise hold the servers open.
    for (const s of servers) s.closeAllConnections();
  });
}
