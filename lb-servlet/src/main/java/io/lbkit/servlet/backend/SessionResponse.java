package io.lbkit.servlet.backend;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;

/**
 * Calls {@link RequestSessions#beforeCommit()} before anything that commits the response: a
 * flush or close of the body, body output reaching the buffer size or the declared content
 * length, {@code flushBuffer}, {@code sendError}, {@code sendRedirect}.
 */
final class SessionResponse extends HttpServletResponseWrapper {

    private final RequestSessions sessions;
    private long contentLength = -1;
    private long written;
    private boolean fired;
    private ServletOutputStream out;
    private PrintWriter writer;

    SessionResponse(HttpServletResponse response, RequestSessions sessions) {
        super(response);
        this.sessions = sessions;
    }

    private void commitSoon() {
        if (!fired) {
            fired = true;
            sessions.beforeCommit();
        }
    }

    /** Before writing {@code n} more bytes (an upper bound). */
    private void count(long n) {
        if (fired) {
            return;
        }
        written += n;
        long limit = getBufferSize();
        if (contentLength >= 0) {
            limit = limit <= 0 ? contentLength : Math.min(limit, contentLength);
        }
        if (written >= limit) {
            commitSoon();
        }
    }

    @Override
    public void setContentLength(int len) {
        contentLength = len;
        super.setContentLength(len);
    }

    @Override
    public void setContentLengthLong(long len) {
        contentLength = len;
        super.setContentLengthLong(len);
    }

    @Override
    public void setHeader(String name, String value) {
        if ("Content-Length".equalsIgnoreCase(name)) {
            contentLength = parse(value);
        }
        super.setHeader(name, value);
    }

    @Override
    public void addHeader(String name, String value) {
        if ("Content-Length".equalsIgnoreCase(name)) {
            contentLength = parse(value);
        }
        super.addHeader(name, value);
    }

    private static long parse(String v) {
        try {
            return v == null ? -1 : Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void flushBuffer() throws IOException {
        commitSoon();
        super.flushBuffer();
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        commitSoon();
        super.sendError(sc, msg);
    }

    @Override
    public void sendError(int sc) throws IOException {
        commitSoon();
        super.sendError(sc);
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        commitSoon();
        super.sendRedirect(location);
    }

    @Override
    public void reset() {
        super.reset();
        contentLength = -1;
        written = 0;
    }

    @Override
    public void resetBuffer() {
        super.resetBuffer();
        written = 0;
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (out == null) {
            out = new Out(super.getOutputStream());
        }
        return out;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            writer = new PrintWriter(new CountingWriter(super.getWriter()), false);
        }
        return writer;
    }

    private final class Out extends ServletOutputStream {
        private final ServletOutputStream d;

        Out(ServletOutputStream d) {
            this.d = d;
        }

        @Override
        public boolean isReady() {
            return d.isReady();
        }

        @Override
        public void setWriteListener(WriteListener l) {
            d.setWriteListener(l);
        }

        @Override
        public void write(int b) throws IOException {
            count(1);
            d.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            count(len);
            d.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            commitSoon();
            d.flush();
        }

        @Override
        public void close() throws IOException {
            commitSoon();
            d.close();
        }
    }

    /** Counts 3 bytes per char: an upper bound of UTF-8 (and every single-byte charset). */
    private final class CountingWriter extends Writer {
        private final PrintWriter d;

        CountingWriter(PrintWriter d) {
            this.d = d;
        }

        @Override
        public void write(char[] cbuf, int off, int len) {
            count(3L * len);
            d.write(cbuf, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            count(3L * len);
            d.write(s, off, len);
        }

        @Override
        public void write(int c) {
            count(3);
            d.write(c);
        }

        @Override
        public void flush() {
            commitSoon();
            d.flush();
        }

        @Override
        public void close() {
            commitSoon();
            d.close();
        }
    }
}
