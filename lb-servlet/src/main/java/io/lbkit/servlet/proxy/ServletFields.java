package io.lbkit.servlet.proxy;

import io.lbkit.proxy.engine.HeaderSink;
import io.lbkit.proxy.engine.ResponseFields;
import io.lbkit.proxy.engine.ResponseHeaderSink;
import jakarta.servlet.http.HttpServletResponse;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;

/** The rules' header views over this engine's containers: Jetty's {@link HttpFields} and the servlet response. */
final class ServletFields {

    private ServletFields() {
    }

    /** A sink writing into a backend request's fields. */
    static HeaderSink sink(HttpFields.Mutable h) {
        return new HeaderSink() {
            @Override
            public void add(String name, String value) {
                h.add(name, value);
            }

            @Override
            public void set(String name, String value) {
                h.put(name, value);
            }
        };
    }

    /** A backend response's fields as the rules read them. */
    static ResponseFields of(HttpFields h) {
        return action -> {
            for (HttpField f : h) {
                action.accept(f.getName(), f.getValue());
            }
        };
    }

    /** The client response's fields before it is committed. */
    static ResponseHeaderSink sink(HttpServletResponse resp) {
        return new ResponseHeaderSink() {
            @Override
            public void add(String name, String value) {
                resp.addHeader(name, value);
            }

            @Override
            public void set(String name, String value) {
                resp.setHeader(name, value);
            }

            @Override
            public Iterable<String> values(String name) {
                return resp.getHeaders(name);
            }

            @Override
            public void remove(String name) {
                resp.setHeader(name, null);
            }
        };
    }
}
