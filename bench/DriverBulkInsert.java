import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.Properties;

/**
 * The pgJDBC side of bench/driver-bulk-insert.mjs: inserts ROWS rows (id, 'name <id>') into the
 * existing table `bulk` with addBatch/executeBatch (a batch every 1,000 rows, autocommit off, one
 * commit), and prints JSON with the seconds that took (connecting is not timed).
 *
 * Usage: java -cp /usr/share/java/postgresql.jar DriverBulkInsert.java HOST PORT USER DATABASE MODE ROWS
 * MODE: batch | batch-rewrite (reWriteBatchedInserts=true: pgJDBC sends multi-row INSERTs)
 */
public class DriverBulkInsert {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[3];
    Properties props = new Properties();
    props.setProperty("user", args[2]);
    props.setProperty("sslmode", "disable");
    if (args[4].equals("batch-rewrite")) props.setProperty("reWriteBatchedInserts", "true");
    else if (!args[4].equals("batch")) throw new IllegalArgumentException("unknown mode " + args[4]);
    int rows = Integer.parseInt(args[5]);
    try (Connection conn = DriverManager.getConnection(url, props)) {
      conn.setAutoCommit(false);
      long started = System.nanoTime();
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO bulk (id, name) VALUES (?, ?)")) {
        for (int i = 1; i <= rows; i++) {
          ps.setInt(1, i);
          ps.setString(2, "name " + i);
          ps.addBatch();
          if (i % 1000 == 0 || i == rows) ps.executeBatch();
        }
      }
      conn.commit();
      double seconds = (System.nanoTime() - started) / 1e9;
      System.out.println("{\"seconds\": " + seconds + "}");
    }
  }
}
