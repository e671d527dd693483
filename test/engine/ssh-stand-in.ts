// A stand-in for the hosts of a large fleet, for the engine benchmark: one
// SSH server (the ssh2 package's) that every host address of the fleet
// reaches (loopback addresses, one port), that takes the stack's key, runs no
// command and keeps what SFTP writes in memory. What it answers follows what
// the command provider expects of OpenSSH:
//  - an exec request reads the command's stdin to its end, then exits 0 (the
//    provider's session copies stdin and fails if the channel closes first:
//    golang.org/x/crypto/ssh session.go, copying stdin is one of Wait's
//    errors); nothing is printed;
//  - SFTP (pkg/sftp, as pulumi-command's CopyToRemote uses it): relative
//    paths are under the login user's home (OpenSSH's sftp-server starts
//    there), STAT of a missing path answers NO_SUCH_FILE (MkdirAll walks up
//    on it), MKDIR of an existing path fails, OPEN for write creates or
//    truncates, WRITE at an offset, CLOSE.
// It counts sessions, commands and bytes, so a benchmark can say what ran.

import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { Server, Connection, ServerChannel, utils } from "ssh2";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { OPEN_MODE, STATUS_CODE } = require("ssh2").utils.sftp as { OPEN_MODE: Record<string, number>; STATUS_CODE: Record<string, number> };

export interface SshStandInCounts {
    connections: number;
    commands: number;
    stdinBytes: number;
    sftpFiles: number;
    sftpBytes: number;
}

export class SshStandIn {
    public readonly counts: SshStandInCounts = { connections: 0, commands: 0, stdinBytes: 0, sftpFiles: 0, sftpBytes: 0 };
    /** The host key's public half as `ssh-ed25519 AAAA...`, for the fleet's hostKey setting. */
    public readonly hostKey: string;
    private readonly server: Server;
    private readonly probe: net.Server;
    private readonly dirs = new Set<string>(["/", "/root"]);
    private readonly files = new Map<string, Buffer>();

    /** `hostKeyFile`: an OpenSSH private key; `home`: where relative SFTP paths go. */
    constructor(hostKeyFile: string, private readonly home = "/root") {
        this.hostKey = fs.readFileSync(`${hostKeyFile}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
        this.server = new Server({ hostKeys: [fs.readFileSync(hostKeyFile)] }, c => this.client(c));
        // actuated's agent port: the fleet's probe from where pulumi runs connects to it (ACTUATED_AGENT_PORT).
        this.probe = net.createServer(s => s.end());
    }

    listen(sshPort: number, probePort: number): Promise<void> {
        return Promise.all([
            new Promise<void>(r => this.server.listen(sshPort, "0.0.0.0", () => r())),
            new Promise<void>(r => this.probe.listen(probePort, "0.0.0.0", () => r())),
        ]).then(() => undefined);
    }

    stop(): Promise<void> {
        return Promise.all([
            new Promise<void>(r => this.server.close(() => r())),
            new Promise<void>(r => this.probe.close(() => r())),
        ]).then(() => undefined);
    }

    private client(c: Connection): void {
        this.counts.connections++;
        c.on("authentication", ctx => (ctx.method === "publickey" ? ctx.accept() : ctx.reject(["publickey"])));
        c.on("error", () => undefined);
        c.on("ready", () => c.on("session", accept => {
            const session = accept();
            session.on("env", a => a?.());
            session.on("exec", (a, _r, info) => {
                const ch = a();
                this.counts.commands++;
                void info;
                ch.on("data", (d: Buffer) => { this.counts.stdinBytes += d.length; });
                ch.on("end", () => this.done(ch));
                ch.resume();
            });
            session.on("sftp", a => this.sftp(a()));
        }));
    }

    private done(ch: ServerChannel): void {
        ch.exit(0);
        ch.end();
    }

    private abs(p: string): string {
        return path.posix.resolve(this.home, p);
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private sftp(s: any): void {
        const open = new Map<number, string>();
        let next = 0;
        const handle = (name: string) => {
            const h = Buffer.alloc(4);
            h.writeUInt32BE(next, 0);
            open.set(next++, name);
            return h;
        };
        const of = (h: Buffer) => (h.length === 4 ? open.get(h.readUInt32BE(0)) : undefined);
        const attrs = (p: string) => {
            const now = Math.floor(Date.now() / 1000);
            if (this.dirs.has(p)) {
                return { mode: 0o40755, uid: 0, gid: 0, size: 4096, atime: now, mtime: now };
            }
            const f = this.files.get(p);
            return f ? { mode: 0o100644, uid: 0, gid: 0, size: f.length, atime: now, mtime: now } : undefined;
        };
        const stat = (reqid: number, p: string) => {
            const a = attrs(this.abs(p));
            return a ? s.attrs(reqid, a) : s.status(reqid, STATUS_CODE.NO_SUCH_FILE);
        };
        // The client's EOF ends the subsystem, as sftp-server exits on it.
        s.on("end", () => s.end());
        s.on("REALPATH", (reqid: number, p: string) => s.name(reqid, [{ filename: this.abs(p), longname: this.abs(p), attrs: {} }]));
        s.on("STAT", stat);
        s.on("LSTAT", stat);
        s.on("FSTAT", (reqid: number, h: Buffer) => {
            const p = of(h);
            return p ? stat(reqid, p) : s.status(reqid, STATUS_CODE.FAILURE);
        });
        s.on("MKDIR", (reqid: number, p: string) => {
            const a = this.abs(p);
            if (this.dirs.has(a) || this.files.has(a) || !this.dirs.has(path.posix.dirname(a))) {
                return s.status(reqid, STATUS_CODE.FAILURE);
            }
            this.dirs.add(a);
            return s.status(reqid, STATUS_CODE.OK);
        });
        s.on("OPEN", (reqid: number, p: string, flags: number) => {
            const a = this.abs(p);
            if (!this.dirs.has(path.posix.dirname(a)) || this.dirs.has(a)) {
                return s.status(reqid, STATUS_CODE.NO_SUCH_FILE);
            }
            if (flags & OPEN_MODE.WRITE) {
                if ((flags & OPEN_MODE.TRUNC) || !this.files.has(a)) {
                    if (!this.files.has(a)) {
                        this.counts.sftpFiles++;
                    }
                    this.files.set(a, Buffer.alloc(0));
                }
            } else if (!this.files.has(a)) {
                return s.status(reqid, STATUS_CODE.NO_SUCH_FILE);
            }
            return s.handle(reqid, handle(a));
        });
        s.on("WRITE", (reqid: number, h: Buffer, offset: number, data: Buffer) => {
            const p = of(h);
            const f = p === undefined ? undefined : this.files.get(p);
            if (p === undefined || f === undefined) {
                return s.status(reqid, STATUS_CODE.FAILURE);
            }
            const grown = Buffer.alloc(Math.max(f.length, offset + data.length));
            f.copy(grown);
            data.copy(grown, offset);
            this.files.set(p, grown);
            this.counts.sftpBytes += data.length;
            return s.status(reqid, STATUS_CODE.OK);
        });
        // What the copy does not use is refused, as a server without it would: the client gets an answer, not a hang.
        for (const op of ["OPENDIR", "READDIR", "READ", "REMOVE", "RMDIR", "RENAME", "READLINK", "SYMLINK"]) {
            s.on(op, (reqid: number) => s.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
        }
        const ok = (reqid: number) => s.status(reqid, STATUS_CODE.OK);
        s.on("SETSTAT", ok);
        s.on("FSETSTAT", ok);
        s.on("CLOSE", (reqid: number, h: Buffer) => {
            const k = h.length === 4 ? h.readUInt32BE(0) : -1;
            if (!open.delete(k)) {
                return s.status(reqid, STATUS_CODE.FAILURE);
            }
            return s.status(reqid, STATUS_CODE.OK);
        });
    }
}

/** Whether a key file is one the stand-in can serve (ssh2 parses it). */
export function parsesAsHostKey(file: string): boolean {
    return !(utils.parseKey(fs.readFileSync(file)) instanceof Error);
}
