// Address checks the config makes, the same way the host scripts make them
// (scripts/host/common.sh, is_private_bind): one list of cases in the tests
// runs against both. And the other places a host is named: an SSH
// address, and how a value is shown in a message.

import * as net from "net";

/**
 * Whether a host part is loopback or a private range, exactly as the host
 * scripts' is_private_bind decides it (scripts/host/common.sh): 127.*, 10.*,
 * 172.16-31.*, 192.168.*, ::1 and localhost. IPv6 unique-local addresses are
 * refused on the host, so they are refused here too.
 */
export function isPrivateAddress(host: string): boolean {
    return /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.)/.test(host) || host === "::1" || host === "localhost";
}

/** host:port, an IPv6 host in brackets. */
const BIND = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]+)):(\d{1,5})$/;

/**
 * Why a service of the fleet that must never face the internet (the Docker
 * Hub mirror, the metrics exporter) may not listen on `bind` (host:port,
 * [v6]:port), or undefined when it may: loopback or a private address only.
 */
export function privateBindProblem(bind: string): string | undefined {
    const m = BIND.exec(bind);
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

/** The host and port of a bind address privateBindProblem takes, or undefined; `localhost` is 127.0.0.1. */
export function bindParts(bind: string): { host: string; port: number } | undefined {
    const m = BIND.exec(bind);
    if (!m) {
        return undefined;
    }
    const host = m[1] ?? m[2];
    return { host: host === "localhost" ? "127.0.0.1" : host.toLowerCase(), port: Number(m[3]) };
}

/** Whether a bind address privateBindProblem takes is loopback: reachable from the host itself only. */
export function isLoopbackBind(bind: string): boolean {
    const host = bindParts(bind)?.host;
    return host !== undefined && (host.startsWith("127.") || host === "::1");
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

/** How a value reads in a message: JSON-quoted, anything outside printable ASCII escaped, cut at 100 characters. */
export function shown(v: string): string {
    const cut = v.length > 100 ? `${v.slice(0, 100)}...` : v;
    return JSON.stringify(cut).replace(/[^\x20-\x7e]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Why `address` is not where SSH can reach a host (an IPv4 address, an IPv6
 * address, or a DNS name), or undefined. What ssh and the command provider
 * are handed is the bare host: no user, port, scheme or brackets, and
 * nothing ssh could read as an option (a leading "-").
 */
export function hostAddressProblem(address: string): string | undefined {
    const a = shown(address);
    if (address === "") {
        return "is empty";
    }
    if (/\s/.test(address)) {
        return `${a} has white space in it`;
    }
    if (address.startsWith("-")) {
        return `${a} starts with "-", which ssh would read as an option`;
    }
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(address)) {
        return `${a} is a URL, not a host`;
    }
    if (address.includes("@")) {
        return `${a} names a user: the user goes in user, the address is the host alone`;
    }
    if (address.startsWith("[") || /^[^:]+:\d+$/.test(address)) {
        return `${a} has a port or brackets: the port goes in port, the address is the host alone`;
    }
    if (address.includes(":")) {
        return isIPv6(address) ? undefined : `${a} is not an IPv6 address`;
    }
    if (IPV4.test(address)) {
        return undefined;
    }
    const labels = address.split(".");
    if (/^\d+$/.test(labels[labels.length - 1])) {
        return `${a} is not an IPv4 address (four numbers from 0 to 255, without leading zeros)`;
    }
    if (address.length > 253 || !labels.every(l => DNS_LABEL.test(l))) {
        return `${a} is not a DNS name (labels of letters, digits and hyphens, not starting or ending with a hyphen, at most 63 characters each and 253 in all)`;
    }
    return undefined;
}

/** An IPv6 address as ssh takes it: no zone index, no brackets. */
function isIPv6(address: string): boolean {
    return !address.includes("%") && net.isIPv6(address);
}

/** What two addresses of one machine have in common: IPv6 in its canonical form, DNS names in lower case. */
export function addressKey(address: string): string {
    if (address.includes(":") && isIPv6(address)) {
        return new URL(`http://[${address}]`).hostname;
    }
    return address.toLowerCase();
}
