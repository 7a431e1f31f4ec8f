// The operator's egress rules (CONTRACT section 10): GITFUNC_NETWORK_ALLOW and
// GITFUNC_NETWORK_DENY, matched against the resolved address and the name connected to; deny
// wins; a rule that cannot be read stops the server. The rules alone, no server: the end to end
// refusal is in network-sockets and network-libraries.
import t from 'tap';
import { EgressPolicy } from '../src/network/egress-rules.js';

const DEFAULT_DENY = ['169.254.0.0/16', 'fd00:ec2::/32'];

t.test('the defaults allow everything but the cloud metadata ranges', async (t) => {
  const policy = new EgressPolicy(['*'], DEFAULT_DENY);
  t.same(policy.check({ address: '127.0.0.1', port: 80 }), { allowed: true });
  t.same(policy.check({ address: '2001:db8::1', port: 443, name: 'example.com' }), { allowed: true });
  t.match(policy.check({ address: '169.254.169.254', port: 80 }), { allowed: false, reason: "denied by network rule '169.254.0.0/16' (GITFUNC_NETWORK_DENY)" });
  t.match(policy.check({ address: 'fd00:ec2::254', port: 80 }), { allowed: false, reason: /'fd00:ec2::\/32'/ });
});

t.test('allow rules: a host name, *.domain, a CIDR with a port, a bracketed IPv6 address with a port', async (t) => {
  const policy = new EgressPolicy(['api.example.com', '*.corp.test', '10.0.0.0/8:5432', '[::1]:6379'], []);
  const allowed = (target: Parameters<EgressPolicy['check']>[0]): boolean => policy.check(target).allowed;
  t.ok(allowed({ address: '93.184.216.34', port: 443, name: 'API.example.com' }), 'a name rule matches the name connected to, any case');
  t.notOk(allowed({ address: '93.184.216.34', port: 443 }), 'not the bare address it resolved to');
  t.ok(allowed({ address: '10.9.9.9', port: 443, name: 'db.corp.test' }), '*.domain matches a subdomain');
  t.notOk(allowed({ address: '10.9.9.9', port: 443, name: 'corp.test' }), '*.domain does not match the domain itself');
  t.ok(allowed({ address: '10.1.2.3', port: 5432 }), 'a CIDR with its port');
  t.notOk(allowed({ address: '10.1.2.3', port: 80 }), 'another port');
  t.notOk(allowed({ address: '11.1.2.3', port: 5432 }), 'outside the CIDR');
  t.ok(allowed({ address: '::1', port: 6379 }));
  t.notOk(allowed({ address: '::1', port: 6380 }));
  t.match(policy.check({ address: '8.8.8.8', port: 53 }), { allowed: false, reason: 'not allowed by any network rule (GITFUNC_NETWORK_ALLOW)' });
});

t.test('deny wins, and applies to the address a name resolved to', async (t) => {
  const policy = new EgressPolicy(['*', 'localhost'], ['127.0.0.0/8', 'evil.test:443']);
  t.match(policy.check({ address: '127.0.0.1', port: 80, name: 'localhost' }), { allowed: false, reason: /'127\.0\.0\.0\/8'/ }, 'a name resolving to a denied address');
  t.match(policy.check({ address: '203.0.113.5', port: 443, name: 'evil.test' }), { allowed: false, reason: /'evil\.test:443'/ });
  t.same(policy.check({ address: '203.0.113.5', port: 80, name: 'evil.test' }), { allowed: true }, 'a deny rule with a port leaves other ports');
});

t.test('a rule that cannot be read is refused, naming it', async (t) => {
  for (const [rule, why] of [
    ['example.com:99999', /'99999' is not a port/],
    ['10.0.0.0/33', /not a prefix length/],
    ['bad name!', /neither a host name/],
    ['300.1.1.1/8', /not an IP address/],
  ] as const) {
    t.throws(() => new EgressPolicy([rule], []), { name: 'EgressRuleError', message: why }, rule);
  }
});
