// Run after `npm install` on a registry that serves only some platforms' prebuilt binaries.
// npm then leaves the other platforms' optional packages out of package-lock.json, and `npm ci`
// refuses the lock ("Missing: X from lock file"). This adds those entries with the os/cpu/libc that
// their names state, so npm ci skips them on every other platform, exactly as a lock made elsewhere.
import fs from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPU = {
  arm64: 'arm64',
  aarch64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  ppc64: 'ppc64',
  ppc64le: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64el',
  universal: null,
};

function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.find((t) => OS.includes(t));
  const cpuToken = tokens.find((t) => t in CPU);
  if (!os || cpuToken === undefined) return undefined;
  const entry = { os: [os] };
  if (CPU[cpuToken]) entry.cpu = [CPU[cpuToken]];
  else if (os === 'darwin') entry.cpu = ['arm64', 'x64'];
  if (tokens.includes('musl')) entry.libc = ['musl'];
  else if (os === 'linux' && (tokens.includes('gnu') || tokens.includes('gnueabihf'))) entry.libc = ['glibc'];
  return entry;
}

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const added = [];
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const base = key ? `${key}/node_modules/` : 'node_modules/';
    if (lock.packages[`${base}${dep}`] || lock.packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) throw new Error(`${dep} (optional for ${key}) is missing and its name names no platform`);
    lock.packages[`node_modules/${dep}`] = { version: version.replace(/^[\^~]/, ''), ...platform, optional: true };
    added.push(dep);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length} platform entries: ${added.join(', ')}` : 'lockfile complete');
