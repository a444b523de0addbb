package io.lbkit.server;

import io.lbkit.proxy.AccessLog;
import io.lbkit.proxy.ProxyConfig;
import io.lbkit.config.ObserveSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a serve file's access log, request id header and status page on the proxy configuration,
 * and reopens the log on {@code SIGUSR1} (nginx's {@code -s reopen} signal) where the JVM lets the
 * process handle it.
 */
final class ObserveSetup {

    private static final Logger LOG = LoggerFactory.getLogger(ObserveSetup.class);

    private ObserveSetup() {
    }

    /** Opens the access log {@code spec} names (the caller closes it), or returns null for none. */
    static AccessLog open(ObserveSpec spec) {
        return spec.accessLog() == null ? null : spec.accessLog().open();
    }

    /**
     * Sets the request id header, the status path and {@code log} (opened once at start: a reload
     * keeps it, as it keeps the session store) on {@code pc}.
     */
    static void apply(ObserveSpec spec, AccessLog log, ProxyConfig.Builder pc) {
        pc.requestIdHeader(spec.requestIdHeader()).statusPath(spec.statusPath()).accessLog(log);
    }

    /** {@code kill -USR1 PID} reopens the access log of {@code server}; a warning if the JVM reserves the signal. */
    static void reopenOnSignal(ProxyServer server) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("USR1"), sig -> {
                LOG.info("SIGUSR1: reopening the access log");
                server.reopenLogs();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            LOG.warn("SIGUSR1 cannot reopen the access log here ({}); restart to rotate", e.toString());
        }
    }
}
