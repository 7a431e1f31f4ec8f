// _DFF_HTTP_REQUEST behind a trusted reverse proxy (settings' trustProxy, as DFF's server sets
// Express's `trust proxy`): ip, ips, hostname and protocol come from the X-Forwarded-* headers.
import { rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { FIXTURES, startGitfunc } from './helpers/start-gitfunc.js';

const configFile = path.join(os.tmpdir(), `gitfunc-trust-proxy-${process.pid}.yaml`);
writeFileSync(configFile, 'trustProxy: true\n');
const gitfunc = await startGitfunc(['--repo', path.join(FIXTURES, 'dff-compat'), '--config', configFile]);
t.teardown(async () => {
  await gitfunc.close();
  rmSync(configFile, { force: true });
});

/** The request's fields as the script saw them; node:http, since fetch will not send a Host header. */
function fieldsSeen(headers: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(`${gitfunc.url}/api/v1/al/request`, { headers: { 'x-custom': 'yes', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve((JSON.parse(text) as { fields: Record<string, unknown> }).fields) : reject(new Error(text))));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('the proxy\'s X-Forwarded-* headers give the client, host and protocol, as Express reads them', async (t) => {
  const seen = await fieldsSeen({
    host: 'internal:8088',
    'x-forwarded-for': '203.0.113.7, 198.51.100.2 ,10.0.0.1',
    'x-forwarded-host': 'api.example.com:443, other.example.com',
    'x-forwarded-proto': 'https, http',
  });
  t.match(seen, {
    ip: '203.0.113.7',
    ips: ['203.0.113.7', '198.51.100.2', '10.0.0.1'],
    host: 'internal:8088',
    hostname: 'api.example.com',
    protocol: 'https',
  });
});

t.test('without those headers, the connection and Host', async (t) => {
  t.match(await fieldsSeen({ host: 'internal:8088' }), { ip: '127.0.0.1', ips: [], hostname: 'internal', protocol: 'http' });
});
