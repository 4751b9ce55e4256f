// The witness status page (GET /, GET /status) and the shape of GET /status.json. Pure: data in,
// one HTML string out. No scripts, no external assets; it reloads itself with a meta refresh so it
// works with JavaScript disabled. Every string that comes from config, log lists or peers (origins,
// key names, peer IDs) is HTML-escaped: log lists are not trusted input.

/** How a tracked witness stands relative to this node's latest cosigned checkpoint of a log. */
export type PeerAgreement =
  | 'agrees' // cosigned the same tree (size and root)
  | 'behind' // its latest cosigned checkpoint is smaller
  | 'ahead' // its latest cosigned checkpoint is larger
  | 'conflict' // it cosigned the same size with another root
  | 'unseen'; // no cosignature by it seen for this log

export interface WitnessAgreement {
  /** The config label (witnesses[].name), if any. */
  readonly name?: string;
  /** The key name and ID, NAME+HEX8. */
  readonly key: string;
  /** The key's kind: 'Ed25519' or 'ML-DSA-44'. */
  readonly keyType?: string;
  /**
   * The witness this key belongs to: its config name, or without one its key name. Keys that
   * share it (a witness with an Ed25519 and an ML-DSA-44 key) are one witness and count once.
   */
  readonly witness?: string;
  readonly status: PeerAgreement;
  /** The size of its latest cosigned checkpoint seen (decimal). */
  readonly size?: string;
}

/** How a log's pull feeder is doing (src/logs/feeders): `failing` after FEEDER_FAILING_AFTER failed polls in a row. */
export type FeederHealth = 'ok' | 'retrying' | 'failing' | 'waiting';

export interface FeederStatus {
  readonly type: string;
  readonly url: string;
  readonly status: FeederHealth;
  readonly consecutiveFailures: number;
  readonly lastPollAt?: string;
  readonly lastSuccessAt?: string;
  readonly lastSuccessAgeSeconds?: number;
  readonly lastError?: { readonly reason: string; readonly message: string; readonly at: string };
}

export interface LogStatus {
  readonly origin: string;
  readonly disabled: boolean;
  /** The log's pull feeder, when it has a `pull:` block. */
  readonly feeder?: FeederStatus;
  /** The latest checkpoint this witness cosigned, if any. */
  readonly cosigned?: {
    readonly size: string;
    readonly root: string;
    /** When it was stored (ISO 8601). */
    readonly at: string;
    readonly ageSeconds: number;
    /** The monitoring GET path. */
    readonly url: string;
  };
  /** From the gossip view; absent without gossip. */
  readonly agreement?: {
    /**
     * Tracked witnesses (not keys: a witness's keys count once) with a key that cosigned the same
     * tree as this node's latest (this node not counted).
     */
    readonly agreeing: number;
    /** Tracked witnesses (keys grouped by WitnessAgreement.witness). */
    readonly tracked: number;
    /** One entry per tracked key. */
    readonly witnesses: readonly WitnessAgreement[];
    /** The largest checkpoint size seen through gossip. */
    readonly largestSeen?: string;
  };
  readonly evidence: {
    readonly count: number;
    /** The most recent ones (at most 10). */
    readonly items: readonly { readonly id: string; readonly url: string; readonly receivedAt: string }[];
    readonly url: string;
    /** Records past the per-log cap (the first 32 are kept), counted but not stored. */
    readonly refused?: number;
  };
  /** repeats: the same suspect pair seen again since start (counted, not stored again). */
  readonly suspects: { readonly count: number; readonly url: string; readonly repeats?: number };
}

export interface StatusData {
  readonly node: {
    readonly name: string;
    readonly vkeys: readonly string[];
    readonly startedAt: string;
    readonly now: string;
    readonly uptimeSeconds: number;
  };
  /** True when any log has proven split-view evidence. */
  readonly splitView: boolean;
  /**
   * ready: the witness can cosign now (the store can write, the clock is not behind; GET /readyz).
   * problems: why not, and every failing pull feeder.
   */
  readonly health?: { readonly ready: boolean; readonly problems: readonly string[] };
  readonly evidenceTotal: number;
  readonly suspectsTotal: number;
  /** Absent when the node runs without `p2p:`. */
  readonly gossip?: {
    readonly peerId: string;
    readonly peerCount: number;
    readonly peers: readonly { readonly id: string; readonly score: number }[];
  };
  readonly logs: readonly LogStatus[];
}

/** Seconds between automatic reloads of the page. */
export const STATUS_REFRESH_SECONDS = 5;

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

/** What kind of lines a witness vkey's key signs, from its type byte (every key is shown, issue 14). */
function keyTypeLabel(vkey: string): string {
  const b64 = vkey.split('+').slice(2).join('+').slice(0, 4);
  const type = /^[A-Za-z0-9+/]{4}$/.test(b64) ? Buffer.from(b64, 'base64')[0] : undefined;
  if (type === 0x04 || type === 0x01) return 'Ed25519 (cosignature/v1)';
  if (type === 0x06) return 'ML-DSA-44 (subtree/v1)';
  return 'key';
}

/** 3725 -> "1h 2m"; 42 -> "42s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const STATUS_TEXT: Record<PeerAgreement, string> = {
  agrees: 'same tree',
  behind: 'behind',
  ahead: 'ahead',
  conflict: 'CONFLICTING ROOT',
  unseen: 'not seen',
};

function witnessLabel(w: WitnessAgreement): string {
  const keyName = w.key.slice(0, w.key.lastIndexOf('+'));
  return w.name && w.name !== keyName ? `${w.name} (${keyName})` : keyName;
}

/** The status that stands for a witness with several keys: a conflict first, then agreement. */
const WITNESS_STATUS_ORDER: readonly PeerAgreement[] = ['conflict', 'agrees', 'ahead', 'behind', 'unseen'];

function statusText(w: WitnessAgreement): string {
  const size = w.size !== undefined && w.status !== 'agrees' ? ` at ${escapeHtml(w.size)}` : '';
  return `${STATUS_TEXT[w.status]}${size}`;
}

function agreementCell(l: LogStatus): string {
  const a = l.agreement;
  if (!a) return '<td class="muted">no gossip</td>';
  if (a.tracked === 0) return '<td class="muted">no tracked witnesses</td>';
  // One line per witness; a witness with several keys shows each key's standing after its own.
  const groups = new Map<string, WitnessAgreement[]>();
  for (const w of a.witnesses) {
    const g = w.witness ?? w.key;
    groups.set(g, [...(groups.get(g) ?? []), w]);
  }
  const items = [...groups.values()]
    .map((keys) => {
      const lead = WITNESS_STATUS_ORDER.map((st) => keys.find((k) => k.status === st)).find((k) => k !== undefined)!;
      const title = keys.map((k) => k.key).join(', ');
      const perKey = keys.length > 1 ? ` <span class="keys">(${keys.map((k) => `${escapeHtml(k.keyType ?? k.key)}: ${statusText(k)}`).join('; ')})</span>` : '';
      return `<li class="${lead.status}" title="${escapeHtml(title)}">${escapeHtml(witnessLabel(lead))}: ${statusText(lead)}${perKey}</li>`;
    })
    .join('');
  return `<td><b>${a.agreeing} of ${a.tracked}</b> cosigned the same tree<ul class="w">${items}</ul></td>`;
}

function evidenceCell(l: LogStatus): string {
  const e = l.evidence;
  const ev =
    e.count === 0
      ? '<span class="ok">none</span>'
      : `<a class="bad" href="${escapeHtml(e.url)}">${e.count} proven</a>${e.refused ? ` (${e.refused} more not stored)` : ''}<ul class="ev">${e.items.map((i) => `<li><a href="${escapeHtml(i.url)}"><code>${escapeHtml(i.id.slice(0, 16))}…</code></a></li>`).join('')}</ul>`;
  const sus = l.suspects.count === 0 ? '' : `<div><a class="warn" href="${escapeHtml(l.suspects.url)}">${l.suspects.count} suspect (unproven)</a></div>`;
  return `<td>${ev}${sus}</td>`;
}

const FEEDER_TEXT: Record<FeederHealth, string> = { ok: 'ok', retrying: 'retrying', failing: 'FAILING', waiting: 'not polled yet' };

function feederLine(f: FeederStatus): string {
  const cls = f.status === 'failing' ? 'bad' : f.status === 'retrying' ? 'warn' : 'muted';
  const success = f.lastSuccessAgeSeconds !== undefined ? `, last success ${formatDuration(f.lastSuccessAgeSeconds)} ago` : f.status === 'waiting' ? '' : ', no success yet';
  const failures = f.consecutiveFailures > 0 ? ` (${f.consecutiveFailures} failed in a row)` : '';
  const err = f.consecutiveFailures > 0 && f.lastError ? `<div class="${cls}">${escapeHtml(f.lastError.reason)}: ${escapeHtml(f.lastError.message.slice(0, 200))}</div>` : '';
  return `<div class="feeder ${cls}">pull (${escapeHtml(f.type)}): ${FEEDER_TEXT[f.status]}${failures}${success}</div>${err}`;
}

function logRow(l: LogStatus): string {
  const c = l.cosigned;
  const size = c ? `<a href="${escapeHtml(c.url)}">${escapeHtml(c.size)}</a>` : '<span class="muted">nothing cosigned yet</span>';
  const age = c ? `${formatDuration(c.ageSeconds)} ago` : '';
  const seen = l.agreement?.largestSeen !== undefined && l.agreement.largestSeen !== c?.size ? `<div class="muted">largest seen: ${escapeHtml(l.agreement.largestSeen)}</div>` : '';
  const origin = `${escapeHtml(l.origin)}${l.disabled ? ' <span class="muted">(disabled)</span>' : ''}${l.feeder ? feederLine(l.feeder) : ''}`;
  return `<tr class="log${l.evidence.count > 0 ? ' split' : ''}"><td class="origin">${origin}</td><td class="num">${size}${seen}</td><td>${age}</td>${agreementCell(l)}${evidenceCell(l)}</tr>`;
}

const CSS = `
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f23;background:#f6f8fa}
header,main,footer{padding:0 24px}
header{background:#24292f;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
header .meta{color:#c9d1d9;font-size:13px;margin-top:4px;word-break:break-all}
.banner{margin:16px 24px;padding:14px 18px;border-radius:6px;font-weight:600}
.banner.split{background:#d1242f;color:#fff;font-size:18px}
.banner.split a{color:#fff}
.banner.healthy{background:#dafbe1;color:#116329}
.banner.suspect{background:#fff8c5;color:#7d4e00}
.banner.trouble{background:#ffe2cc;color:#953800}
.banner.trouble ul{font-weight:400}
div.feeder{font-family:system-ui,sans-serif;font-size:13px;margin-top:4px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0 16px}
th,td{border:1px solid #d0d7de;padding:8px 10px;text-align:left;vertical-align:top}
th{background:#eaeef2;font-size:13px}
tr.split td{background:#ffebe9}
td.origin{font-family:ui-monospace,monospace;word-break:break-all}
td.num{font-variant-numeric:tabular-nums}
ul{margin:4px 0 0;padding-left:18px}
ul.peers{margin-top:8px}
li.agrees{color:#116329}li.conflict{color:#d1242f;font-weight:700}li.unseen,li.behind{color:#6e7781}li.ahead{color:#7d4e00}li .keys{color:#6e7781;font-weight:400}
.muted{color:#6e7781}.ok{color:#116329}.bad{color:#d1242f;font-weight:700}.warn{color:#9a6700}
code{font-family:ui-monospace,monospace;font-size:13px}
h2{font-size:16px;margin:18px 0 6px}
footer{color:#6e7781;font-size:13px;margin-top:20px;padding-bottom:16px}
`;

/** The whole status page. */
export function renderStatusPage(d: StatusData): string {
  const n = d.node;
  const split = d.logs.filter((l) => l.evidence.count > 0);
  const banner = d.splitView
    ? `<div class="banner split" role="alert">SPLIT VIEW: evidence of log misbehaviour — ${d.evidenceTotal} proven evidence record${d.evidenceTotal === 1 ? '' : 's'} for ${split.map((l) => `<a href="${escapeHtml(l.evidence.url)}">${escapeHtml(l.origin)}</a>`).join(', ')}</div>`
    : d.health && (d.health.problems.length > 0 || !d.health.ready)
      ? `<div class="banner trouble" role="alert">${d.health.ready ? 'Degraded' : 'NOT READY: this witness cannot cosign now'}<ul>${d.health.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>${d.suspectsTotal > 0 ? `No proven split view; ${d.suspectsTotal} suspect record${d.suspectsTotal === 1 ? '' : 's'}: <a href="/suspects">/suspects</a>` : 'No split view detected.'}</div>`
      : d.suspectsTotal > 0
      ? `<div class="banner suspect">No proven split view. ${d.suspectsTotal} suspect record${d.suspectsTotal === 1 ? '' : 's'} (failed consistency checks, unproven): <a href="/suspects">/suspects</a></div>`
      : '<div class="banner healthy">No split view detected.</div>';
  const g = d.gossip;
  const peers = g
    ? `<h2>Peers: ${g.peerCount} connected</h2><div class="muted">this node: <code>${escapeHtml(g.peerId)}</code></div>` +
      (g.peers.length === 0 ? '<p class="bad">no connected peers</p>' : `<ul class="peers">${g.peers.map((p) => `<li><code>${escapeHtml(p.id)}</code> <span class="muted">score ${Number.isFinite(p.score) ? p.score.toFixed(1) : '?'}</span></li>`).join('')}</ul>`)
    : '<h2>Peers</h2><p class="muted">gossip is not enabled (no <code>p2p:</code> in the config)</p>';
  const rows = d.logs.length === 0 ? '<tr><td colspan="5" class="muted">no logs configured</td></tr>' : d.logs.map(logRow).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${STATUS_REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${d.splitView ? 'SPLIT VIEW — ' : ''}${escapeHtml(n.name)} — gossip-witness</title>
<style>${CSS}</style></head>
<body>
<header><h1>gossip-witness ${escapeHtml(n.name)}</h1>
<div class="meta">${n.vkeys.map((v) => `${keyTypeLabel(v)} <code>${escapeHtml(v)}</code>`).join('<br>')}</div>
<div class="meta">up ${formatDuration(n.uptimeSeconds)} · ${g ? `${g.peerCount} peer${g.peerCount === 1 ? '' : 's'}` : 'no gossip'} · ${d.logs.length} log${d.logs.length === 1 ? '' : 's'} · ${escapeHtml(n.now)}</div></header>
${banner}
<main>
<h2>Logs</h2>
<table><thead><tr><th>origin</th><th>cosigned size</th><th>age</th><th>agreement with tracked witnesses</th><th>evidence and alarms</th></tr></thead>
<tbody>${rows}</tbody></table>
${peers}
</main>
<footer>Reloads every ${STATUS_REFRESH_SECONDS} s · <a href="/status.json">status.json</a> · <a href="/metrics">metrics</a> · <a href="/evidence">evidence</a> · <a href="/suspects">suspects</a></footer>
</body></html>
`;
}
