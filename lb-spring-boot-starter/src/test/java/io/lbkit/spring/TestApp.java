package io.lbkit.spring;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A small Spring Boot web app whose controller counts requests in {@code request.getSession()}. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(TestApp.CountController.class)
public class TestApp {

    @RestController
    public static class CountController {

        /** Increments the session's {@code count}; answers {@code count=N id=ID timeout=SECONDS}. */
        @GetMapping("/count")
        public String count(HttpServletRequest request) {
            HttpSession session = request.getSession();
            Object old = session.getAttribute("count");
            int n = old == null ? 1 : ((Number) old).intValue() + 1;
            session.setAttribute("count", n);
            return "count=" + n + " id=" + session.getId() + " timeout=" + session.getMaxInactiveInterval();
        }
    }
}
