/**
 * Which server nginx picks for one fixed key, by nginx's own arithmetic, for the cases where
 * every request carries the same key (a constant `hash` key, or `ip_hash` behind one client
 * address). Ported from ngx_http_upstream_ip_hash_module.c (hash 89, ×113 mod 6271 over the
 * first three octets of an IPv4 address) and ngx_http_upstream_hash_module.c (the
 * Cache::Memcached-compatible `(crc32([REHASH] KEY) >> 16) & 0x7fff` walk), and
 * ngx_murmur_hash2 for split_clients. Checked against the real nginx in test/formats.
 */
import { crc32 } from 'node:zlib';

/** A peer as nginx's round-robin list holds it: primaries only, in the order written. */
export interface Peer {
  weight: number;
  down: boolean;
}

/** The index nginx's ip_hash gives `ip` (IPv4 dotted or IPv6 text), or undefined when it falls back to round-robin. */
export function ipHashPick(ip: string, peers: readonly Peer[]): number | undefined {
  const bytes = ipBytes(ip);
  if (!bytes || peers.length < 2) return undefined;
  const total = peers.reduce((s, p) => s + p.weight, 0);
  let hash = 89;
  for (let tries = 0; tries <= 20; tries++) {
    for (const b of bytes) hash = (hash * 113 + b) % 6271;
    const p = walk(hash % total, peers);
    if (!peers[p].down) return p;
  }
  return undefined;
}

/** The index nginx's (non-consistent) `hash KEY` gives `key`, or undefined when it falls back to round-robin. */
export function keyHashPick(key: string, peers: readonly Peer[]): number | undefined {
  if (key.length === 0 || peers.length < 2) return undefined;
  const total = peers.reduce((s, p) => s + p.weight, 0);
  let acc = 0;
  for (let rehash = 0; rehash <= 20; rehash++) {
    const h = crc32(rehash > 0 ? `${rehash}${key}` : key);
    acc += (h >>> 16) & 0x7fff;
    const p = walk(acc % total, peers);
    if (!peers[p].down) return p;
  }
  return undefined;
}

/**
 * The index nginx's `hash KEY consistent` gives `key` (ngx_http_upstream_init_chash): each
 * server line `host:port` as written gets weight × 160 points on a ring, point k being
 * crc32(host, NUL, port, point k-1 as 4 little-endian bytes); the key's crc32 picks the first
 * point at or after it, and a down server passes to the next point.
 */
export function chashPick(key: string, servers: readonly (Peer & { written: string })[]): number | undefined {
  if (key.length === 0 || servers.length < 2) return undefined;
  const points: { hash: number; server: number }[] = [];
  servers.forEach((s, i) => {
    const m = /^(.*):(\d*)$/.exec(s.written);
    const host = m ? m[1] : s.written;
    const port = m ? m[2] : '';
    const base = Buffer.concat([Buffer.from(host), Buffer.from([0]), Buffer.from(port)]);
    const prev = Buffer.alloc(4);
    for (let j = 0; j < s.weight * 160; j++) {
      const hash = crc32(Buffer.concat([base, prev]));
      points.push({ hash, server: i });
      prev.writeUInt32LE(hash);
    }
  });
  points.sort((a, b) => a.hash - b.hash);
  const ring = points.filter((p, i) => i === 0 || p.hash !== points[i - 1].hash);
  const h = crc32(key);
  let lo = 0;
  let hi = ring.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring[mid].hash < h) lo = mid + 1;
    else hi = mid;
  }
  for (let tries = 0; tries < ring.length; tries++) {
    const server = ring[(lo + tries) % ring.length].server;
    // Every line with the same text is a candidate for this point; the first usable one serves.
    const usable = servers.findIndex((x) => x.written === servers[server].written && !x.down);
    if (usable >= 0) return usable;
  }
  return undefined;
}

/** ngx_murmur_hash2 over the UTF-8 bytes of `s`, as split_clients uses it. */
export function murmurHash2(s: string): number {
  const data = Buffer.from(s, 'utf8');
  const m = 0x5bd1e995;
  let len = data.length;
  let h = len >>> 0;
  let i = 0;
  while (len >= 4) {
    let k = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) >>> 0;
    k = Math.imul(k, m) >>> 0;
    k ^= k >>> 24;
    k = Math.imul(k, m) >>> 0;
    h = Math.imul(h, m) >>> 0;
    h = (h ^ k) >>> 0;
    i += 4;
    len -= 4;
  }
  if (len === 3) h ^= data[i + 2] << 16;
  if (len >= 2) h ^= data[i + 1] << 8;
  if (len >= 1) {
    h ^= data[i];
    h = Math.imul(h >>> 0, m) >>> 0;
  }
  h ^= h >>> 13;
  h = Math.imul(h >>> 0, m) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** nginx's `while (w >= peer->weight) { w -= peer->weight; peer = peer->next; }`. */
function walk(w: number, peers: readonly Peer[]): number {
  let p = 0;
  while (p < peers.length - 1 && w >= peers[p].weight) {
    w -= peers[p].weight;
    p++;
  }
  return p;
}

function ipBytes(ip: string): number[] | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  // ip_hash keys an IPv4 client by its first three octets only: a whole /24 is one key.
  if (v4) return v4.slice(1, 4).map(Number);
  return undefined;
}
