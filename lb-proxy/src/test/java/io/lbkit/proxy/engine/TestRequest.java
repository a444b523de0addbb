package io.lbkit.proxy.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A client request built by a test: what an engine would hand the rules. */
final class TestRequest implements ClientRequest {

    private final String method;
    private final String path;
    private String query;
    private String protocol = "HTTP/1.1";
    private String remoteAddress = "192.0.2.1";
    private final Map<String, List<String>> headers = new LinkedHashMap<>();

    TestRequest(String method, String path) {
        this.method = method;
        this.path = path;
    }

    TestRequest header(String name, String value) {
        headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        return this;
    }

    TestRequest query(String q) {
        this.query = q;
        return this;
    }

    TestRequest remoteAddress(String a) {
        this.remoteAddress = a;
        return this;
    }

    TestRequest protocol(String p) {
        this.protocol = p;
        return this;
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String protocol() {
        return protocol;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String rawPath() {
        return path;
    }

    @Override
    public String query() {
        return query;
    }

    @Override
    public String serverName() {
        String h = header("Host");
        return h == null ? "localhost" : Headers.hostName(h);
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public String header(String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue().get(0);
            }
        }
        return null;
    }

    @Override
    public Iterable<String> headers(String name) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                out.addAll(e.getValue());
            }
        }
        return out;
    }

    @Override
    public Iterable<String> headerNames() {
        return headers.keySet();
    }
}
