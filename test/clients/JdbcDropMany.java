import java.sql.*;

// DROP of several objects through pgJDBC (Parse/Bind/Execute): update counts, the NOTICEs as
// warnings, SQLSTATEs, and what remains, in autocommit and in a transaction. Prints one line per
// step. Run as a single-file program: java -cp /usr/share/java/postgresql.jar JdbcDropMany.java HOST PORT USER DATABASE
// test/drop-many.test.ts runs it against aiduck and against PostgreSQL 15 and compares the two.
public class JdbcDropMany {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[3] + "?sslmode=disable";
    try (Connection c = DriverManager.getConnection(url, args[2], "")) {
      step(c, "CREATE TABLE jd_a (x int)");
      step(c, "CREATE TABLE jd_b (x int)");
      step(c, "CREATE TABLE jd_c (x int)");
      step(c, "DROP TABLE IF EXISTS jd_a, jd_nope, jd_b");
      step(c, "DROP TABLE jd_c, jd_missing");
      try (PreparedStatement p = c.prepareStatement("DROP TABLE jd_c, \"jd_missing\"")) {
        p.executeUpdate();
        System.out.println("prepared: dropped");
      } catch (SQLException e) {
        System.out.println("prepared: " + e.getSQLState() + " " + e.getMessage());
      }
      step(c, "CREATE TABLE jd_d (x int)");
      c.setAutoCommit(false);
      step(c, "DROP TABLE jd_c, jd_d");
      c.rollback();
      System.out.println("remaining: " + remaining(c));
      step(c, "DROP TABLE jd_c, jd_d");
      c.commit();
      System.out.println("remaining: " + remaining(c));
    }
  }

  static void step(Connection c, String sql) {
    try (Statement s = c.createStatement()) {
      boolean rows = s.execute(sql);
      StringBuilder line = new StringBuilder(sql + ": rows=" + rows + " count=" + s.getUpdateCount());
      for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) line.append(" | ").append(w.getSQLState()).append(' ').append(w.getMessage());
      System.out.println(line);
    } catch (SQLException e) {
      System.out.println(sql + ": " + e.getSQLState() + " " + e.getMessage());
    }
  }

  static String remaining(Connection c) throws SQLException {
    StringBuilder b = new StringBuilder();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT relname::text FROM pg_class WHERE relname LIKE 'jd%' AND relkind = 'r' ORDER BY 1")) {
      while (rs.next()) b.append(rs.getString(1)).append(';');
    }
    c.commit();
    return b.toString();
  }
}
