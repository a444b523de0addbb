package io.lbkit.proxy.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StubStatusTest {

    @Test
    void textIsNginxsByteForByte() {
        StubStatus s = new StubStatus();
        int a = s.opened();
        int b = s.opened();
        s.request();
        a = s.move(a, StubStatus.READING);
        a = s.move(a, StubStatus.WRITING);
        a = s.move(a, StubStatus.WAITING);
        s.request();
        b = s.move(b, StubStatus.WRITING);
        int c = s.opened();
        s.closed(c);
        assertEquals("Active connections: 2 \nserver accepts handled requests\n 3 3 2 \nReading: 0 Writing: 1 Waiting: 1 \n",
                s.text());
        s.closed(a);
        s.closed(b);
        assertEquals("Active connections: 0 \nserver accepts handled requests\n 3 3 2 \nReading: 0 Writing: 0 Waiting: 0 \n",
                s.text());
    }
}
