// The operator's egress rules (CONTRACT section 10): what each rule form matches, deny winning
// over allow, names matched only when the script connected by name, and unreadable rules refused.
import t from 'tap';
import { GitfuncError } from '../src/errors.js';
import { EgressPolicy } from '../src/network/egress-rules.js';

const DEFAULT_DENY = ['169.254.0.0/16', 'fd00:ec2::/32'];

t.test('the default allows everything but the cloud metadata ranges', async (t) => {
  const policy = new EgressPolicy(['*'], DEFAULT_DENY);
  t.same(policy.check({ address: '93.184.216.34', port: 443, name: 'example.com' }), { allowed: true });
  t.same(policy.check({ address: '127.0.0.1', port: 3306 }), { allowed: true });
  t.match(policy.check({ address: '169.254.169.254', port: 80 }), { allowed: false, reason: /denied by network rule '169\.254\.0\.0\/16'/ });
  t.match(policy.check({ address: 'fd00:ec2::254', port: 80 }), { allowed: false, reason: /'fd00:ec2::\/32'/ });
  t.match(policy.check({ address: '169.254.169.254', port: 80, name: 'metadata.internal' }), { allowed: false }, 'a name resolving to a denied address is refused');
});

t.test('host, *.domain, IP, CIDR and port forms', async (t) => {
  const policy = new EgressPolicy(['api.example.com', '*.corp.example', '10.0.0.0/8:5432', '192.168.1.7', '[::1]:6379', 'redis.local:6379'], []);
  const allowed = (target: Parameters<EgressPolicy['check']>[0]): boolean => policy.check(target).allowed;
  t.ok(allowed({ address: '1.2.3.4', port: 443, name: 'api.example.com' }), 'exact host, any port');
  t.ok(allowed({ address: '1.2.3.4', port: 443, name: 'API.Example.COM' }), 'names compare without case');
  t.notOk(allowed({ address: '1.2.3.4', port: 443 }), 'a host rule needs the name the script connected to');
  t.ok(allowed({ address: '1.2.3.4', port: 80, name: 'db.eu.corp.example' }), '*.domain matches subdomains');
  t.notOk(allowed({ address: '1.2.3.4', port: 80, name: 'corp.example' }), '*.domain does not match the domain itself');
  t.ok(allowed({ address: '10.20.30.40', port: 5432 }), 'CIDR with its port');
  t.notOk(allowed({ address: '10.20.30.40', port: 5433 }), 'CIDR on another port');
  t.ok(allowed({ address: '192.168.1.7', port: 1 }), 'a single address');
  t.notOk(allowed({ address: '192.168.1.8', port: 1 }));
  t.ok(allowed({ address: '::1', port: 6379 }), 'bracketed IPv6 with a port');
  t.notOk(allowed({ address: '::1', port: 6380 }));
  t.ok(allowed({ address: '10.9.9.9', port: 6379, name: 'redis.local' }), 'host with a port');
  t.match(policy.check({ address: '8.8.8.8', port: 53 }), { allowed: false, reason: /not allowed by any network rule \(GITFUNC_NETWORK_ALLOW\)/ });
});

t.test('deny wins over allow', async (t) => {
  const policy = new EgressPolicy(['*.example.com', '10.0.0.0/8'], ['secret.example.com', '10.1.0.0/16:22']);
  t.notOk(policy.check({ address: '1.1.1.1', port: 443, name: 'secret.example.com' }).allowed);
  t.ok(policy.check({ address: '1.1.1.1', port: 443, name: 'open.example.com' }).allowed);
  t.notOk(policy.check({ address: '10.1.2.3', port: 22 }).allowed);
  t.ok(policy.check({ address: '10.1.2.3', port: 80 }).allowed);
});

t.test('a rule that cannot be read is a CONFIG_INVALID error naming it', async (t) => {
  for (const [rule, why] of [
    ['10.0.0.0/33', /not a prefix length/],
    ['host:99999', /not a port/],
    ['bad host name', /neither a host name/],
    ['300.1.1.1/8', /not an IP address/],
  ] as const) {
    let thrown: unknown;
    try {
      new EgressPolicy([rule], []);
    } catch (error) {
      thrown = error;
    }
    t.ok(thrown instanceof GitfuncError, rule);
    t.match(thrown, { code: 'CONFIG_INVALID', message: why }, rule);
  }
});
