package io.lbkit.config;

import io.lbkit.proxy.AccessLog;
import io.lbkit.proxy.engine.LogFormat;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the operator sees of the proxy: the access log, the request id header and the
 * {@code stub_status} path; the top-level settings {@code accessLog}, {@code logFormats},
 * {@code requestId} and {@code statusPath} of a serve file (docs/configuration.md, "Access log,
 * request id, status").
 *
 * @param accessLog       the access log, or null for none ({@code path: off}, the default)
 * @param requestIdHeader the request id header, or null for none
 * @param statusPath      the stub_status page's path, or null for none
 */
public record ObserveSpec(AccessLogSpec accessLog, String requestIdHeader, String statusPath) {

    /** Nothing: no access log, no request id, no status page. */
    public static final ObserveSpec NONE = new ObserveSpec(null, null, null);

    /**
     * @param path   the file lines are appended to, or null for standard output
     * @param format the compiled line format
     */
    public record AccessLogSpec(Path path, LogFormat format) {

        /** Opens the file and starts the writer; the caller closes it. */
        public AccessLog open() {
            return AccessLog.builder().path(path).format(format).build();
        }
    }

    /** Reads the four settings from the file's root; unknown format names and variables are errors. */
    static ObserveSpec read(Node root) {
        Map<String, String> formats = new LinkedHashMap<>();
        formats.put("combined", LogFormat.COMBINED);
        Node fs = root.get("logFormats");
        for (Map.Entry<String, Node> e : fs.entries().entrySet()) {
            if (e.getKey().equals("combined")) {
                throw e.getValue().error("'combined' is predefined (nginx's combined format)");
            }
            formats.put(e.getKey(), e.getValue().requiredString());
        }
        AccessLogSpec log = accessLog(root.get("accessLog"), formats);
        String requestId = root.get("requestId").string(null);
        if (isOff(requestId)) {
            requestId = null;
        } else if (requestId != null && !requestId.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
            throw root.get("requestId").error("must be a header name (such as X-Request-ID) or off, got '" + requestId + "'");
        }
        String status = root.get("statusPath").string(null);
        if (status != null && (!status.startsWith("/") || status.contains("?"))) {
            throw root.get("statusPath").error("must be a path starting with /, got '" + status + "'");
        }
        return new ObserveSpec(log, requestId, status);
    }

    /** {@code off} (which YAML also reads as {@code false}). */
    private static boolean isOff(String s) {
        return "off".equalsIgnoreCase(s) || "false".equalsIgnoreCase(s);
    }

    private static AccessLogSpec accessLog(Node n, Map<String, String> formats) {
        if (n.isMissing() || (!n.isMapping() && isOff(n.string(null)))) {
            return null; // accessLog: off
        }
        n.allowOnly("path", "format", "escape");
        String where = n.get("path").requiredString();
        if (isOff(where)) {
            return null;
        }
        String name = n.get("format").string("combined");
        String text = formats.get(name);
        if (text == null) {
            if (name.indexOf('$') < 0) {
                throw n.get("format").error("names no format of logFormats (" + String.join(", ", formats.keySet())
                        + ") and is no format text, got '" + name + "'");
            }
            text = name; // a format written in place
        }
        String escape = n.get("escape").string("default");
        LogFormat.Escape e = switch (escape) {
            case "default" -> LogFormat.Escape.DEFAULT;
            case "json" -> LogFormat.Escape.JSON;
            case "none" -> LogFormat.Escape.NONE;
            default -> throw n.get("escape").error("must be default, json or none, got '" + escape + "'");
        };
        LogFormat format;
        try {
            format = LogFormat.compile(text, e);
        } catch (IllegalArgumentException x) {
            throw n.get("format").error(x.getMessage());
        }
        return new AccessLogSpec(where.equals("stdout") ? null : Path.of(where), format);
    }
}
