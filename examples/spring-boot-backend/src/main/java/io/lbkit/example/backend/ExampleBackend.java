package io.lbkit.example.backend;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A backend of seed 000's kind, written the way a Spring Boot app is: its sessions are
 * {@code request.getSession()}, kept in Redis by lb-spring-boot-starter, so every instance behind
 * the proxy sees the same session and an instance can restart without logging anyone out. The
 * starter also serves seed 000's session API ({@code /session}) on the same store and names the
 * answering instance in {@code X-Instance-ID}. Settings: {@code application.yaml}.
 */
@SpringBootApplication
public class ExampleBackend {

    public static void main(String[] args) {
        SpringApplication.run(ExampleBackend.class, args);
    }

    /** The app's pages. */
    @RestController
    public static class Pages {

        /** Logs in: the session remembers the user (a new session when the request had none). */
        @PostMapping("/login")
        public Map<String, Object> login(@RequestBody Map<String, String> body, HttpServletRequest request) {
            HttpSession session = request.getSession();
            session.setAttribute("username", body.getOrDefault("username", "anonymous"));
            return page(session);
        }

        /** The user's page: counts the visits in the session; 401 without a session. */
        @GetMapping("/me")
        public ResponseEntity<Map<String, Object>> me(HttpServletRequest request) {
            HttpSession session = request.getSession(false);
            if (session == null) {
                return ResponseEntity.status(401).body(Map.of("error", "not logged in"));
            }
            Object visits = session.getAttribute("visits");
            session.setAttribute("visits", visits == null ? 1 : ((Number) visits).intValue() + 1);
            return ResponseEntity.ok(page(session));
        }

        private static Map<String, Object> page(HttpSession session) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("username", session.getAttribute("username"));
            p.put("visits", session.getAttribute("visits"));
            return p;
        }
    }
}
