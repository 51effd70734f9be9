import java.sql.*;
import java.util.*;

// pgJDBC's savepoints and read-only transactions against one server; prints JSON. Run as a
// single-file program: java -cp /usr/share/java/postgresql.jar JdbcIdioms.java HOST PORT USER DATABASE SCHEMA
// test/clients/driver-idioms.test.ts runs it against aiduck and against PostgreSQL 15 and compares the two.
public class JdbcIdioms {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[3] + "?sslmode=disable";
    String table = args[4] + ".jdbc_items";
    StringBuilder out = new StringBuilder("{");
    try (Connection c = DriverManager.getConnection(url, args[2], "")) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE " + table + " (id integer PRIMARY KEY, label text)");
      }
      c.setAutoCommit(false);
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?)")) {
        ins.setInt(1, 1); ins.setString(2, "one"); ins.executeUpdate();
        Savepoint sp = c.setSavepoint("before_two");
        ins.setInt(1, 2); ins.setString(2, "two"); ins.executeUpdate();
        String code = "none";
        try { ins.setInt(1, 1); ins.setString(2, "dup"); ins.executeUpdate(); } catch (SQLException e) { code = e.getSQLState(); }
        c.rollback(sp);
        ins.setInt(1, 3); ins.setString(2, "three"); ins.executeUpdate();
        c.releaseSavepoint(c.setSavepoint());
        c.commit();
        out.append("\"duplicate\": \"").append(code).append("\", ");
      }
      out.append("\"rows\": \"").append(rows(c, "SELECT id, label FROM " + table + " ORDER BY id")).append("\", ");
      c.commit();
      c.setReadOnly(true);
      String ro = "none";
      try (Statement s = c.createStatement()) { s.executeUpdate("INSERT INTO " + table + " VALUES (9, 'no')"); } catch (SQLException e) { ro = e.getSQLState(); }
      c.rollback();
      c.setReadOnly(false);
      out.append("\"readOnlyInsert\": \"").append(ro).append("\", ");
      // prepareThreshold=-1: prepared on the server from the first execution, arrays sent in binary.
      try (Connection binary = DriverManager.getConnection(url + "&prepareThreshold=-1", args[2], "")) {
        out.append("\"arrays\": \"").append(arrays(binary, table)).append("\"");
      }
    }
    System.out.println(out.append("}"));
  }

  // setArray of a Java array both ways, and = ANY(?) with one.
  static String arrays(Connection c, String table) throws SQLException {
    c.setAutoCommit(true);
    StringBuilder b = new StringBuilder();
    try (Statement s = c.createStatement()) { s.execute("CREATE TABLE " + table + "_arr (id integer, tags text[], nums integer[])"); }
    try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + table + "_arr VALUES (?, ?, ?)")) {
      ins.setInt(1, 1);
      ins.setArray(2, c.createArrayOf("text", new Object[] {"a", "b,c", "q\"x", null, "{y}"}));
      ins.setArray(3, c.createArrayOf("integer", new Object[] {1, null, 3}));
      ins.executeUpdate();
    }
    try (PreparedStatement q = c.prepareStatement("SELECT id, tags, nums FROM " + table + "_arr WHERE id = ANY(?)")) {
      for (int round = 0; round < 7; round++) {
        q.setArray(1, c.createArrayOf("integer", new Object[] {1, 2}));
        StringBuilder seen = new StringBuilder();
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            seen.append(rs.getInt(1)).append(Arrays.toString((Object[]) rs.getArray(2).getArray())).append(Arrays.toString((Object[]) rs.getArray(3).getArray())).append(';');
          }
        }
        if (round == 0) b.append(seen);
        else if (!seen.toString().equals(b.toString())) b.append(" round ").append(round).append(": ").append(seen);
      }
    }
    try (PreparedStatement ins = c.prepareStatement("INSERT INTO " + table + "_arr (id, tags) VALUES (?, ?)")) {
      for (int round = 0; round < 7; round++) {
        ins.setInt(1, 10 + round);
        ins.setArray(2, c.createArrayOf("text", new Object[] {"r" + round, null}));
        ins.executeUpdate();
      }
    }
    b.append(" inserted ").append(rowsOf(c, "SELECT count(*) FROM " + table + "_arr WHERE id >= 10 AND tags[1] LIKE 'r%' AND tags[2] IS NULL"));
    return b.toString().replace("\"", "'");
  }

  static String rowsOf(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static String rows(Connection c, String sql) throws SQLException {
    StringBuilder b = new StringBuilder();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) b.append(rs.getInt(1)).append('=').append(rs.getString(2)).append(';');
    }
    return b.toString();
  }
}
