// Baseline for bench/sync-api: the cheapest JSON answer polka can give (the ceiling).
import { createServer } from 'node:http';
import polka from 'polka';

const app = polka();
app.get('/hello', (req, res) => {
  const body = JSON.stringify({ message: (req.query as Record<string, string>).message ?? null });
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
const server = createServer((req, res) => void app.handler(req as never, res, undefined as never));
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
});
