package io.lbkit.proxy.contract;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A socket-level backend that records each request head exactly as it arrived (bytes, as
 * ISO-8859-1 characters, one per byte) and answers with a fixed response. For checks on what
 * reaches a backend byte for byte, which a servlet backend would decode first. Keeps connections
 * alive; one thread per connection; requests with a Content-Length body are read and dropped.
 */
public final class RecordingBackend implements AutoCloseable {

    private final ServerSocket server;
    private final List<String> heads = new CopyOnWriteArrayList<>();
    private final byte[] response;

    /** A backend answering every request with {@code response} (the whole response, bytes as ISO-8859-1). */
    public RecordingBackend(String response) throws IOException {
        this.response = response.getBytes(StandardCharsets.ISO_8859_1);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::run, "recording-backend");
        t.setDaemon(true);
        t.start();
    }

    /** A backend answering {@code 200 OK} with the body {@code ok}. */
    public static RecordingBackend ok() throws IOException {
        return new RecordingBackend("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Every request head received so far, in order. */
    public List<String> heads() {
        return heads;
    }

    /** The request line of the last request received, or null. */
    public String lastRequestLine() {
        if (heads.isEmpty()) {
            return null;
        }
        String h = heads.get(heads.size() - 1);
        return h.substring(0, h.indexOf("\r\n"));
    }

    private void run() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "recording-backend-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String head;
            while ((head = RawBackend.readHead(in)) != null) {
                heads.add(head);
                for (String line : head.split("\r\n")) {
                    String l = line.toLowerCase(Locale.ROOT);
                    if (l.startsWith("content-length:")) {
                        in.readNBytes(Integer.parseInt(l.substring(15).trim()));
                    }
                }
                out.write(response);
                out.flush();
            }
        } catch (IOException e) {
            // the connection ended; the test decides what matters
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
