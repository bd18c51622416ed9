// Run a command with its stdout and stderr passed through a filter that keeps secrets out of
// the container's log. Usage: node -e "<this file>" -- NAME,NAME,... command [args...]
//
// The values of the environment variables NAME (read here, never from a command line) are
// replaced by "[REDACTED NAME]": as literal bytes, also in their JSON-escaped and URL-encoded
// forms, longest value first. The rest of a line after "New administrator password is:"
// (Heimdall's admin seeder prints the password there, a random one when ADMIN_PASSWORD is
// empty) is dropped. Output goes out a line at a time, each stream on its own, and a line is
// held back while a secret could begin in it and go on in what has not arrived yet, so a
// secret split across writes or across lines is still caught. Exits with the command's
// status (128 + the signal's number when a signal ended it); TERM, INT and HUP are passed on
// to the command's process group.
'use strict';
const {spawn} = require('child_process');
const {constants} = require('os');

const ADMIN_LINE = Buffer.from('New administrator password is:');
const NEWLINE = 0x0a;
// A line longer than this goes out in pieces, still without any secret.
const MAX_PENDING = 64 * 1024;

const [names = '', ...command] = process.argv.slice(1);
if (command.length === 0) {
  process.stderr.write('redact-output: usage: -- NAME,NAME,... command [args...]\n');
  process.exit(2);
}

function forms(value) {
  const json = JSON.stringify(value).slice(1, -1);
  return [value, json, encodeURIComponent(value)];
}

const secrets = [];
for (const name of names.split(',').filter(Boolean)) {
  const value = process.env[name];
  if (!value) continue;
  for (const form of new Set(forms(value))) {
    secrets.push({bytes: Buffer.from(form), marker: Buffer.from(`[REDACTED ${name}]`)});
  }
}
// At one position the longest value wins, so a secret that contains another goes whole.
secrets.sort((a, b) => b.bytes.length - a.bytes.length);

// The earliest position before `end` where a secret begins that reaches past `end` (whole in
// `buf`, or cut off by its end), else `end`: cutting the output there splits no secret.
function straddleStart(buf, end) {
  let start = end;
  for (const {bytes} of secrets) {
    for (let p = Math.max(0, end - bytes.length + 1); p < start; p++) {
      const seen = Math.min(bytes.length, buf.length - p);
      if (buf.compare(bytes, 0, seen, p, p + seen) === 0) {
        start = p;
        break;
      }
    }
  }
  return start;
}

function redact(buf) {
  const parts = [];
  let at = 0;
  while (at < buf.length) {
    let found = -1;
    let secret = null;
    for (const s of secrets) {
      const i = buf.indexOf(s.bytes, at);
      if (i !== -1 && (found === -1 || i < found)) {
        found = i;
        secret = s;
      }
    }
    if (secret === null) break;
    parts.push(buf.subarray(at, found), secret.marker);
    at = found + secret.bytes.length;
  }
  parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

function dropAdminPassword(buf) {
  const parts = [];
  let at = 0;
  let i;
  while ((i = buf.indexOf(ADMIN_LINE, at)) !== -1) {
    const eol = buf.indexOf(NEWLINE, i);
    const end = eol === -1 ? buf.length : eol;
    parts.push(buf.subarray(at, i + ADMIN_LINE.length), Buffer.from(' [REDACTED]'));
    at = end;
  }
  parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

function filter(input, output) {
  let pending = Buffer.alloc(0);
  function flush(final) {
    let end = pending.length;
    if (!final) {
      const lastLine = pending.lastIndexOf(NEWLINE) + 1;
      const whole = lastLine === 0 && pending.length > MAX_PENDING;
      end = whole ? pending.length : lastLine;
      // Move back until no secret can straddle the cut, then to a line's end again.
      for (;;) {
        const start = straddleStart(pending, end);
        if (start === end) break;
        if (whole || start === 0) end = start;
        else end = pending.lastIndexOf(NEWLINE, start - 1) + 1;
      }
    }
    if (end === 0) return;
    output.write(dropAdminPassword(redact(pending.subarray(0, end))));
    pending = pending.subarray(end);
  }
  input.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    flush(false);
  });
  return new Promise((resolve) => {
    input.on('end', () => {
      flush(true);
      resolve();
    });
  });
}

const child = spawn(command[0], command.slice(1), {
  stdio: ['inherit', 'pipe', 'pipe'],
  detached: true
});
const forward = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    // The command has already gone.
  }
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, forward);
const streams = Promise.all([
  filter(child.stdout, process.stdout),
  filter(child.stderr, process.stderr)
]);
// Never process.exit(): it would drop output still queued for a full pipe (the last lines,
// often the error). Node exits by itself once everything is written.
let spawnFailed = false;
child.on('error', (error) => {
  spawnFailed = true;
  process.stderr.write(`redact-output: cannot run ${command[0]}: ${error.message}\n`);
  process.exitCode = 127;
});
child.on('exit', (code, signal) => {
  streams.then(() => {
    for (const name of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.removeListener(name, forward);
    if (spawnFailed) return;
    process.exitCode = code === null ? 128 + (constants.signals[signal] || 0) : code;
  });
});
