import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real Dovecot IMAP server for tests (Debian dovecot-imapd): one passwd-file user,
 * plaintext auth on 127.0.0.1, Maildir in a temp dir, run in the foreground and killed by pid.
 */
export interface Dovecot {
  port: number;
  user: string;
  pass: string;
  /** IMAP sessions logged in now (`doveadm who`), e.g. to see that only one serve replica watches. */
  sessions(): number;
  /** Delivers a raw message into the user's INBOX with dovecot-lda, as an MTA would. */
  deliver(raw: Buffer | string): Promise<void>;
  stop(): Promise<void>;
}

/** Debian installs the LDA outside PATH. */
const LDA = existsSync("/usr/lib/dovecot/dovecot-lda") ? "/usr/lib/dovecot/dovecot-lda" : "dovecot-lda";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = netConnect(port, "127.0.0.1");
      c.once("data", () => (c.destroy(), resolve(true)));
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dovecot did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startDovecot(opts: { user?: string; pass?: string; port?: number } = {}): Promise<Dovecot> {
  const user = opts.user ?? "approvals";
  const pass = opts.pass ?? "imap-test-pass";
  const dir = mkdtempSync(join(tmpdir(), "clawgate-dovecot-"));
  // Dovecot's auth process runs as its own user: it must be able to read the passwd file.
  chmodSync(dir, 0o755);
  const port = opts.port ?? (await freePort());
  // Dovecot refuses to run mail processes as root: as root, mail belongs to nobody.
  const root = (process.getuid?.() ?? 0) === 0;
  const uid = root ? 65534 : (process.getuid?.() as number);
  const gid = root ? 65534 : (process.getgid?.() as number);
  for (const sub of ["mail", "home"]) {
    mkdirSync(join(dir, sub));
    chownSync(join(dir, sub), uid, gid);
  }
  writeFileSync(join(dir, "passwd"), `${user}:{PLAIN}${pass}::::::\n`, { mode: 0o644 });
  const conf = join(dir, "dovecot.conf");
  writeFileSync(
    conf,
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
postmaster_address = postmaster@example.test
default_internal_user = ${root ? "dovecot" : process.env.USER ?? "nobody"}
default_login_user = ${root ? "dovenull" : process.env.USER ?? "nobody"}
first_valid_uid = 0
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`,
  );
  const proc: ChildProcess = spawn("dovecot", ["-F", "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  try {
    await Promise.race([waitForPort(port, Date.now() + 10_000), exited.then(() => Promise.reject(new Error(`dovecot exited: ${stderr}`)))]);
  } catch (err) {
    proc.kill("SIGKILL");
    throw err;
  }
  return {
    port,
    user,
    pass,
    sessions() {
      // "username  # proto (pids) (ips)": the second column counts the user's connections.
      const out = execFileSync("doveadm", ["-c", conf, "who", "-1"]).toString();
      return out.split("\n").filter((l) => /\bimap\b/.test(l)).length;
    },
    deliver: (raw) =>
      new Promise<void>((resolve, reject) => {
        const lda = spawn(LDA, ["-c", conf, "-d", user], { stdio: ["pipe", "ignore", "pipe"] });
        let err = "";
        lda.once("error", reject);
        lda.stderr?.on("data", (d: Buffer) => (err += d.toString()));
        lda.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`dovecot-lda exited ${code}: ${err}`))));
        lda.stdin?.end(raw);
      }),
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 3_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
