/** Benchmark backends: N tiny HTTP servers in one process (ports given on the command line), with /healthz. */
import http from 'node:http';

const body = Buffer.from('hello from a benchmark backend\n');
for (const port of process.argv.slice(2).map(Number)) {
  http
    .createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    })
    .listen(port, '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
