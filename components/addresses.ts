// Address checks the config makes, the same way the host scripts make them
// (scripts/host/common.sh, mirror_bind_problem): one list of cases in the
// tests runs against both.

/**
 * Whether a host part is loopback or a private range, exactly as the host
 * scripts' is_private_bind decides it (scripts/host/common.sh): 127.*, 10.*,
 * 172.16-31.*, 192.168.*, ::1 and localhost. IPv6 unique-local addresses are
 * refused on the host, so they are refused here too.
 */
export function isPrivateAddress(host: string): boolean {
    return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.)/.test(host) || host === "::1" || host === "localhost";
}

/** Why a mirror may not listen on `bind` (host:port, [v6]:port), or undefined when it may. */
export function mirrorBindProblem(bind: string): string | undefined {
    const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(bind);
    if (!m) {
        return `"${bind}" is not host:port (an IPv6 address goes in brackets: [fd00::1]:5000)`;
    }
    const host = m[1] ?? m[2];
    const port = Number(m[3]);
    if (port < 1 || port > 65535) {
        return `port ${port} is not a TCP port`;
    }
    if (host === "0.0.0.0" || host === "::") {
        return `"${bind}" listens on every address, the public one too`;
    }
    if (!isPrivateAddress(host)) {
        return `"${host}" is not a loopback or private address (IPv4, or ::1)`;
    }
    const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host.split(".").map(Number) : undefined;
    if (host !== "localhost" && host !== "::1" && (!v4 || v4.some(o => o > 255))) {
        return `"${host}" is not an IPv4 address`;
    }
    return undefined;
}

/** Why a CIDR is not one, or undefined. */
export function cidrProblem(cidr: string): string | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (m) {
        return m.slice(1, 5).every(o => Number(o) <= 255) && Number(m[5]) <= 32 ? undefined : `"${cidr}" is not a CIDR`;
    }
    const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr);
    return v6 !== null && v6[1].includes(":") && Number(v6[2]) <= 128 ? undefined : `"${cidr}" is not a CIDR`;
}

/** Whether a CIDR admits the whole internet (0.0.0.0/0, ::/0). */
export function opensToEveryone(cidr: string): boolean {
    return /^0\.0\.0\.0\/0$/.test(cidr) || /^(::|0*:0*:0*:0*:0*:0*:0*:0*)\/0$/.test(cidr);
}
