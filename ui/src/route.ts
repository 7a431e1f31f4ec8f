// The dashboard's views live in the URL's hash: #/overview, #/apis, #/cron, #/tasks?originId=&status=, #/tasks/<id>.

export type Route =
  | { view: 'overview' }
  | { view: 'apis' }
  | { view: 'cron' }
  | { view: 'tasks'; originId: string; status: string }
  | { view: 'task'; id: string };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(query);
  const [first, second] = path.split('/');
  if (first === 'tasks' && second) return { view: 'task', id: decodeURIComponent(second) };
  if (first === 'tasks') return { view: 'tasks', originId: params.get('originId') ?? '', status: params.get('status') ?? '' };
  if (first === 'apis' || first === 'cron') return { view: first };
  return { view: 'overview' };
}

export function tasksHash(filters: { originId?: string; status?: string }): string {
  const params = new URLSearchParams();
  if (filters.originId) params.set('originId', filters.originId);
  if (filters.status) params.set('status', filters.status);
  const query = params.toString();
  return `#/tasks${query ? `?${query}` : ''}`;
}

export function taskHash(id: string): string {
  return `#/tasks/${encodeURIComponent(id)}`;
}
