// Small DOM helpers: h() builds elements; busy() runs an action with its button disabled and a
// spinner; problem() renders an ApiError as the human message for its code.
import { ApiError, type DomainRefusal } from './api';
import { codeMessage, t, tOr, type Key, lang } from './i18n';
import { formatRemaining, remainingMs } from './clock';

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, unknown>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      else if (k === 'class') el.className = String(v);
      else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
      else if (k === 'checked' && 'checked' in el) (el as HTMLInputElement).checked = Boolean(v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function spinner(): HTMLElement {
  return h('span', { class: 'spinner', role: 'status', 'aria-label': t('loading') });
}

/** Runs `action` with `btn` disabled and spinning; a problem is shown in `out`. */
export async function busy(btn: HTMLButtonElement, out: Element | null, action: () => Promise<void>): Promise<void> {
  if (btn.disabled) return;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  const sp = spinner();
  btn.prepend(sp);
  if (out) out.replaceChildren();
  try {
    await action();
  } catch (e) {
    if (out) out.replaceChildren(problem(e));
    else console.error(e);
  } finally {
    sp.remove();
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

export function button(label: string, onClick: (btn: HTMLButtonElement) => void, attrs: Attrs = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', () => onClick(b));
  return b;
}

/** The human message for a problem, with per-domain refusals and the cool-down time. */
export function problem(e: unknown): HTMLElement {
  if (!(e instanceof ApiError)) {
    return h('div', { class: 'problem', role: 'alert' }, h('p', null, codeMessage('UNKNOWN')), h('p', { class: 'muted' }, String(e)));
  }
  // A one-domain refusal repeats the whole answer's code: say it once, naming the domain.
  const single = e.errors.length === 1 && e.errors[0].code === e.code ? e.errors[0] : null;
  return h(
    'div',
    { class: 'problem', role: 'alert', 'data-code': e.code },
    h('p', null, single?.domain ? h('strong', null, single.domain, ': ') : null, h('strong', null, codeMessage(e.code))),
    e.buyable_at ? h('p', null, t('opensAt'), ' ', when(e.buyable_at), ' (', countdown(e.buyable_at), ')') : null,
    e.code === 'UNAUTHENTICATED' ? h('p', null, h('a', { href: '#/signin' }, t('signIn'))) : null,
    e.errors.length && !single ? refusals(e.errors) : null,
    h('p', { class: 'muted small' }, `${e.code}${e.detail ? ' — ' + e.detail : ''}`),
  );
}

export function refusals(list: DomainRefusal[]): HTMLElement {
  return h(
    'ul',
    { class: 'refusals' },
    list.map((r) =>
      h(
        'li',
        { 'data-code': r.code },
        r.domain ? h('strong', null, r.domain, ': ') : null,
        codeMessage(r.code),
        r.buyable_at ? [' ', t('opensAt'), ' ', when(r.buyable_at), ' (', countdown(r.buyable_at), ')'] : null,
        h('span', { class: 'muted small' }, ` [${r.code}]`),
      ),
    ),
  );
}

/** A live countdown to `deadline` by the server clock (updated by tickCountdowns). */
/**
 * A live countdown to `deadline` (server time). `closes`: the buttons (a selector) that the
 * deadline ends, found in the countdown's nearest enclosing block that has them; they are
 * disabled at zero, since the server would refuse them (O3, P5).
 */
export function countdown(deadline: string, doneKey: Key = 'timeUp', closes?: string): HTMLElement {
  const el = h('span', { class: 'countdown', 'data-deadline': deadline, 'data-done': t(doneKey), 'data-closes': closes ?? null, role: 'timer' });
  renderCountdown(el);
  return el;
}

function renderCountdown(el: HTMLElement): void {
  const ms = remainingMs(el.dataset.deadline ?? '');
  el.textContent = ms > 0 ? formatRemaining(ms) : el.dataset.done ?? '';
  el.classList.toggle('done', ms <= 0);
  const closes = el.dataset.closes;
  if (ms <= 0 && closes) {
    let scope: HTMLElement | null = el.parentElement;
    for (let up = 0; scope && up < 6 && !scope.querySelector(closes); up++) scope = scope.parentElement;
    scope?.querySelectorAll<HTMLButtonElement>(closes).forEach((b) => {
      b.disabled = true;
      b.title = el.dataset.done ?? '';
    });
  }
}

export function tickCountdowns(): void {
  document.querySelectorAll<HTMLElement>('.countdown').forEach(renderCountdown);
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

export function money(v: string | null | undefined): string {
  if (v == null) return '—';
  return v.startsWith('-') ? `−¥${v.slice(1)}` : `¥${v}`;
}

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { class: 'muted' }, hint) : null);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', null, title), ...children);
}

export function loadingBlock(): HTMLElement {
  return h('p', { class: 'loading' }, spinner(), ' ', t('loading'));
}

/** Renders `load()` into `box`: a spinner while it runs, its content or its problem after. */
export async function load(box: Element, loadFn: () => Promise<Child>): Promise<void> {
  box.replaceChildren(loadingBlock());
  try {
    const content = await loadFn();
    clear(box, content);
  } catch (e) {
    clear(box, problem(e));
  }
}

/**
 * A paginated list (API: `{items, next_cursor}`) rendered into `box`: the first page, then a
 * "Load more" button for as long as the server has more. A page may be short, even empty,
 * with more behind it: only a page without a cursor ends the list.
 */
export async function pagedList<T>(
  box: Element,
  fetchPage: (cursor?: string) => Promise<{ items: T[]; next_cursor: string | null }>,
  render: (item: T) => Node,
  emptyText: Key,
): Promise<void> {
  const list = h('ul', { class: 'plain' });
  const tail = h('div', { class: 'load-more' });
  const out = h('div', { 'aria-live': 'polite' });
  const offerMore = (cursor: string | null): void => {
    clear(tail, cursor
      ? button(t('loadMore'), (b) => void busy(b, out, async () => {
          const page = await fetchPage(cursor);
          list.append(...page.items.map(render));
          offerMore(page.next_cursor);
        }), { 'data-action': 'load-more' })
      : null);
  };
  await load(box, async () => {
    const page = await fetchPage();
    if (!page.items.length && !page.next_cursor) return h('p', { class: 'empty' }, t(emptyText));
    list.append(...page.items.map(render));
    offerMore(page.next_cursor);
    return [list, tail, out];
  });
}

export function status(s: string): HTMLElement {
  return h('span', { class: `badge st-${s}` }, tOr(`st_${s}`, s));
}
