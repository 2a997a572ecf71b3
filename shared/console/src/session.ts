// The signed-in account: the bearer token in localStorage, its claims decoded for display
// (the server verifies it; the console only reads `sub` and `roles`).
const TOKEN_KEY = 'market.token';
type Listener = () => void;
const listeners = new Set<Listener>();

export function token(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t: string | null): void {
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
  listeners.forEach((l) => l());
}

export function onSessionChange(l: Listener): void {
  listeners.add(l);
}

export interface Claims {
  sub?: string;
  roles?: string[];
  exp?: number;
  'cognito:groups'?: string[];
  username?: string;
}

export function decodeClaims(t: string | null = token()): Claims | null {
  if (!t) return null;
  const part = t.split('.')[1];
  if (!part) return null;
  try {
    const bin = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Claims;
  } catch {
    return null;
  }
}

export function accountId(): string | null {
  const c = decodeClaims();
  return c?.sub ?? null;
}

export function isAdmin(): boolean {
  const c = decodeClaims();
  if (!c) return false;
  const roles = [...(c.roles ?? []), ...(c['cognito:groups'] ?? [])];
  return roles.includes('admin');
}
