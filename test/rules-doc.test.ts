// Keeps docs/rules.md and the finding catalogue in step: every code in CODES has a section,
// headed with its catalogue title and severity, whose Bad example gets that code and whose Good
// example does not (and has no errors at all). EK4xx examples are judged as a change from
// their Before example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODES, type Code, type Finding } from '../src/config/findings.js';
import { analyzeLoaded, validateText, type ValidationReport } from '../src/analysis/validate.js';
import { readHaproxy } from '../src/formats/index.js';
import { haproxyBinary, haproxyCheck } from '../src/cli/engine-check.js';
import { readNginx } from '../src/formats/nginx/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
// EK124's example needs a certificate that expires within 14 days of today: made here, each run.
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=www.example.com',
  '-addext', 'subjectAltName=DNS:www.example.com', '-days', '7', '-keyout', join(repoRoot, 'examples', 'tls', 'expiring.key'), '-out', join(repoRoot, 'examples', 'tls', 'expiring.crt')], { stdio: 'ignore' });
const docFile = join(repoRoot, 'docs', 'rules.md');
const doc = readFileSync(docFile, 'utf8');

type Label = 'Bad' | 'Good' | 'Before';

interface Example {
  text: string;
  /** The fence's language: `yaml` (an evenkeel config), `haproxy` (a haproxy.cfg) or `nginx` (an nginx.conf). */
  lang: string;
  /** 1-based line in docs/rules.md of the example's first YAML line. */
  line: number;
}

interface Section {
  code: string;
  title: string;
  /** 1-based line of the heading, for messages. */
  line: number;
  severity?: string;
  examples: Partial<Record<Label, Example>>;
  problems: string[];
}

/**
 * Splits the doc into `## EKnnn: title` sections. Inside a section, a line `Bad:`, `Good:` or
 * `Before:` must be followed (blank lines allowed) by a ```yaml fenced block: that block is
 * the example. `Severity: **x**` gives the documented severity.
 */
function parseDoc(text: string): { sections: Section[]; strayHeadings: string[] } {
  const lines = text.split('\n');
  const sections: Section[] = [];
  const strayHeadings: string[] = [];
  let cur: Section | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('```')) {
      // Skip fenced blocks that are not examples (e.g. the sample output in the intro).
      const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
      i = end < 0 ? lines.length : end;
      continue;
    }
    if (/^#{1,2} /.test(line)) {
      const h = /^## (EK\d{3}): (.+)$/.exec(line);
      if (h) {
        cur = { code: h[1], title: h[2].trim(), line: i + 1, examples: {}, problems: [] };
        sections.push(cur);
      } else {
        if (/EK\d/.test(line)) strayHeadings.push(`line ${i + 1}: ${line}`);
        cur = undefined;
      }
      continue;
    }
    if (!cur) continue;
    const sev = /^Severity: \*\*(\w+)\*\*\s*$/.exec(line);
    if (sev) {
      cur.severity = sev[1];
      continue;
    }
    const label = /^(Bad|Good|Before):\s*$/.exec(line);
    if (!label) continue;
    const name = label[1] as Label;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    const fence = /^```(yaml|haproxy|nginx)$/.exec(lines[j]);
    if (!fence) {
      cur.problems.push(`line ${i + 1}: "${name}:" is not followed by a \`\`\`yaml, \`\`\`haproxy or \`\`\`nginx block`);
      continue;
    }
    const end = lines.findIndex((l, k) => k > j && l.startsWith('```'));
    if (end < 0) {
      cur.problems.push(`line ${j + 1}: the ${name} block is never closed`);
      break;
    }
    if (cur.examples[name] !== undefined) cur.problems.push(`line ${i + 1}: a second ${name} example`);
    cur.examples[name] = { text: lines.slice(j + 1, end).join('\n') + '\n', lang: fence[1], line: j + 2 };
    i = end;
  }
  return { sections, strayHeadings };
}

const { sections, strayHeadings } = parseDoc(doc);
const codes = Object.keys(CODES) as Code[];
const isChangeRule = (code: string) => code.startsWith('EK4');

async function validate(example: Example, previous?: ValidationReport): Promise<ValidationReport> {
  const prev = previous?.config && previous.model ? { config: previous.config, model: previous.model } : undefined;
  if (example.lang === 'haproxy') {
    // As `evenkeel validate` reads a haproxy.cfg: the reader, then `haproxy -c` when installed.
    const file = join(tmp, 'haproxy.cfg');
    writeFileSync(file, example.text);
    const load = readHaproxy(example.text, docFile);
    return analyzeLoaded({ ...load, findings: [...load.findings, ...(await haproxyCheck(file))] }, { previous: prev });
  }
  // An nginx example writes a NUL byte as <NUL> (Markdown cannot hold one).
  if (example.lang === 'nginx') return analyzeLoaded(readNginx(example.text.replaceAll('<NUL>', '\u0000'), docFile), { previous: prev });
  return validateText(example.text, docFile, { previous: prev });
}

const tmp = mkdtempSync(join(tmpdir(), 'evenkeel-rules-doc-'));
/** Codes only `haproxy -c` reports: their examples need the binary. */
const needsHaproxy = (code: string) => (code === 'EK511' || code === 'EK512') && !haproxyBinary();

/** Findings as `docs/rules.md:line:col: severity code: message`, lines counted in the doc. */
function describe(report: ValidationReport, example: Example): string {
  if (report.findings.length === 0) return '  (no findings)';
  const where = (f: Finding) => (f.file ? `${f.file}:${f.line ?? '?'}` : `docs/rules.md:${f.line === undefined ? '?' : example.line + f.line - 1}:${f.column ?? '?'}`);
  return report.findings.map((f) => `  ${where(f)}: ${f.severity} ${f.code}: ${f.message}`).join('\n');
}

test('docs/rules.md has one section per code, in catalogue order, with the catalogue titles and severities', () => {
  assert.deepEqual(strayHeadings, [], 'headings that mention a code but are not "## EKnnn: title"');
  const documented = sections.map((s) => s.code);
  const unknown = documented.filter((c) => !(c in CODES));
  assert.deepEqual(unknown, [], 'sections for codes that are not in CODES (src/config/findings.ts)');
  const missing = codes.filter((c) => !documented.includes(c));
  assert.deepEqual(missing, [], 'codes in CODES without a section in docs/rules.md');
  const twice = documented.filter((c, i) => documented.indexOf(c) !== i);
  assert.deepEqual(twice, [], 'codes with more than one section');
  assert.deepEqual(documented, codes, 'sections are in code order');
  for (const s of sections) {
    const entry = CODES[s.code as Code];
    assert.equal(s.title, entry.title, `docs/rules.md:${s.line}: the title of ${s.code} differs from CODES`);
    assert.equal(s.severity, entry.severity, `docs/rules.md:${s.line}: the severity of ${s.code} differs from CODES (a "Severity: **x**" line)`);
  }
});

for (const code of codes) {
  test(`${code} bad example is reported, good example passes`, { skip: needsHaproxy(code) && 'haproxy is not installed' }, async () => {
    const s = sections.find((x) => x.code === code);
    assert.ok(s, `${code} has no section in docs/rules.md`);
    assert.deepEqual(s.problems, [], `${code}: malformed examples`);
    const { Bad: bad, Good: good, Before: before } = s.examples;
    assert.ok(bad !== undefined, `${code}: no "Bad:" example`);
    assert.ok(good !== undefined, `${code}: no "Good:" example`);

    let previous: ValidationReport | undefined;
    if (isChangeRule(code)) {
      assert.ok(before !== undefined, `${code}: a change rule needs a "Before:" example`);
      previous = await validate(before);
      const errors = previous.findings.filter((f) => f.severity === 'error');
      assert.deepEqual(errors, [], `${code}: the Before example should itself be valid:\n${describe(previous, before)}`);
    } else {
      assert.equal(before, undefined, `${code}: only EK4xx sections have a "Before:" example`);
    }

    const badReport = await validate(bad, previous);
    const hits = badReport.findings.filter((f) => f.code === code);
    assert.ok(hits.length > 0, `${code}: the Bad example does not produce ${code}; it produces:\n${describe(badReport, bad)}`);
    for (const f of hits) {
      assert.equal(f.severity, CODES[code].severity, `${code}: reported as ${f.severity}, the catalogue says ${CODES[code].severity}`);
      assert.ok(f.line !== undefined && f.line >= 1, `${code}: the finding has no line: ${f.message}`);
      assert.ok(f.message.length > 0 && f.hint.length > 0, `${code}: the finding needs a message and a hint`);
    }
    if (CODES[code].severity === 'error') assert.equal(badReport.valid, false, `${code}: the Bad example should be invalid`);

    const goodReport = await validate(good, previous);
    assert.deepEqual(goodReport.findings.filter((f) => f.code === code), [], `${code}: the Good example still produces ${code}:\n${describe(goodReport, good)}`);
    const errors = goodReport.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(errors, [], `${code}: the Good example has errors:\n${describe(goodReport, good)}`);
    assert.equal(goodReport.valid, true);
  });
}
