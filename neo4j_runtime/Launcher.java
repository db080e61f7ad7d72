import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.kernel.internal.Version;

/**
 * Runs the project-managed local Neo4j (Community, embedded DBMS with Bolt) in the foreground.
 *
 * <pre>
 * java -cp 'DIST/plugins/*:DIST/lib/*' Launcher --home HOME --config HOME/conf/neo4j.conf \
 *      --bolt 127.0.0.1:7687 --password-file HOME/password
 * </pre>
 *
 * Auth is on; the password of user {@code neo4j} is set from the file (or env MPDB_NEO4J_PASSWORD)
 * on every start, so the file is the only source of truth. Prints one line starting with
 * {@code MPDB-NEO4J READY} when Bolt accepts that password. SIGTERM (or SIGINT) shuts the DBMS down
 * cleanly (store flushed, lock released) through a shutdown hook. Started and stopped by
 * mpdb/graph/local_server.py; exit code 2 for bad arguments, 1 for a failed start.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Path home = null;
        Path config = null;
        String bolt = "127.0.0.1:7687";
        Path passwordFile = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--home" -> { home = Path.of(v); i++; }
                case "--config" -> { config = Path.of(v); i++; }
                case "--bolt" -> { bolt = v; i++; }
                case "--password-file" -> { passwordFile = Path.of(v); i++; }
                default -> usage("unknown argument: " + a);
            }
        }
        if (home == null) usage("--home is required");
        String password = System.getenv("MPDB_NEO4J_PASSWORD");
        if (passwordFile != null) {
            password = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
        }
        if (password == null || password.length() < 8) usage("a password of 8+ characters is required");
        int colon = bolt.lastIndexOf(':');
        SocketAddress boltAddress = new SocketAddress(bolt.substring(0, colon), Integer.parseInt(bolt.substring(colon + 1)));

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home.toAbsolutePath());
        if (config != null) builder.loadPropertiesFromFile(config);
        builder.setConfig(BoltConnector.enabled, true)
               .setConfig(BoltConnector.listen_address, boltAddress)
               .setConfig(GraphDatabaseSettings.auth_enabled, true);

        DatabaseManagementService dbms;
        try {
            dbms = builder.build();
        } catch (Throwable t) {
            System.err.println("MPDB-NEO4J FAILED " + t);
            t.printStackTrace();
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        DatabaseManagementService running = dbms;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("MPDB-NEO4J STOPPING");
            System.out.flush();
            try {
                running.shutdown();
            } finally {
                System.out.println("MPDB-NEO4J STOPPED");
                System.out.flush();
                stopped.countDown();
            }
        }, "mpdb-neo4j-shutdown"));

        try {
            setPassword(dbms, password);
        } catch (Throwable t) {
            System.err.println("MPDB-NEO4J FAILED setting the neo4j password: " + t);
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("MPDB-NEO4J READY bolt://" + bolt + " version=" + Version.getNeo4jVersion()
                + " pid=" + ProcessHandle.current().pid());
        System.out.flush();
        stopped.await();
    }

    private static void setPassword(DatabaseManagementService dbms, String password) {
        try {
            dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
        } catch (RuntimeException e) {
            // Re-setting the current password is refused; that is the normal case on a restart.
            String msg = String.valueOf(e.getMessage()) + " " + (e.getCause() == null ? "" : e.getCause().getMessage());
            if (!msg.contains("cannot be the same")) throw e;
        }
    }

    private static void usage(String problem) {
        System.err.println("Launcher: " + problem);
        System.err.println("usage: Launcher --home DIR [--config neo4j.conf] [--bolt HOST:PORT] [--password-file FILE]");
        System.exit(2);
    }
}
