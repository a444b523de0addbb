package io.lbkit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Heads written as bytes: start lines, fields in order, and set/remove/values reading back what was written. */
class HeadWriterTest {

    private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

    private static String text(ByteBuf b) {
        try {
            return b.toString(StandardCharsets.ISO_8859_1);
        } finally {
            b.release();
        }
    }

    @Test
    void aResponseHeadHasItsStatusLineFieldsAndBlankLine() {
        HeadWriter w = new HeadWriter(ALLOC).response(404, "Not Found");
        w.field("Content-Type", "text/plain");
        w.field(Fields.CONTENT_LENGTH, 12);
        byte[] src = "X-From: parsed".getBytes(StandardCharsets.ISO_8859_1);
        w.field(src, 0, 6, 8, 14);
        assertEquals("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nX-From: parsed\r\n\r\n",
                text(w.finish()));
    }

    @Test
    void setReplacesEveryFieldOfTheNameInAnyCaseAndKeepsTheOthersInOrder() {
        HeadWriter w = new HeadWriter(ALLOC).response(200, "OK");
        w.add("Set-Cookie", "a=1");
        w.add("X-Keep", "k");
        w.add("set-cookie", "b=2");
        assertEquals(List.of("a=1", "b=2"), w.values("SET-COOKIE"));
        w.set("Set-Cookie", "c=3");
        assertTrue(w.has("set-cookie"));
        w.remove("X-Keep");
        assertFalse(w.has("x-keep"));
        w.add("X-After", "z");
        assertEquals("HTTP/1.1 200 OK\r\nSet-Cookie: c=3\r\nX-After: z\r\n\r\n", text(w.finish()));
    }

    @Test
    void aRequestHeadIsItsLineHostThenTheSharedBlock() {
        HeadWriter block = new HeadWriter(ALLOC).fields();
        block.add("Accept", "*/*");
        block.set("X-Forwarded-For", "10.0.0.1");
        HeadWriter w = new HeadWriter(ALLOC).request(HttpMethod.GET, "/caf\u00e9?x=1");
        w.field(Fields.HOST, "backend:80");
        w.fieldsOf(block);
        w.set("Accept", "text/html"); // the block's fields are indexed too
        assertEquals("GET /caf\u00e9?x=1 HTTP/1.1\r\nHost: backend:80\r\nX-Forwarded-For: 10.0.0.1\r\nAccept: text/html\r\n\r\n",
                text(w.finish()));
    }

    @Test
    void aReusedWriterStartsEachHeadAfresh() {
        HeadWriter w = new HeadWriter(ALLOC);
        w.response(200, "OK").add("X-Long", "v".repeat(2000)); // grows the array past its first size
        text(w.finish());
        w.request(HttpMethod.HEAD, "/next");
        w.add("X-A", "1");
        assertFalse(w.has("X-Long"));
        assertEquals("HEAD /next HTTP/1.1\r\nX-A: 1\r\n\r\n", text(w.finish()));
    }
}
