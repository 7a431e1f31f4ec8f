// Baseline for bench/sync-api and bench/peers: the cheapest JSON answer polka can give (the
// ceiling). GET takes `message` from the query (sync-api); POST reads it from a JSON body (peers).
import { createServer, type ServerResponse } from 'node:http';
import polka from 'polka';

function answer(res: ServerResponse, message: unknown): void {
  const body = JSON.stringify({ message: message ?? null });
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const app = polka();
app.get('/hello', (req, res) => answer(res, (req.query as Record<string, string>).message));
app.post('/hello', (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => answer(res, (JSON.parse(Buffer.concat(chunks).toString()) as { message?: unknown }).message));
});
const server = createServer((req, res) => void app.handler(req as never, res, undefined as never));
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
});
