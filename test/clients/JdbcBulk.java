import java.math.BigDecimal;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * pgJDBC's executeBatch against one server, with and without reWriteBatchedInserts; prints JSON:
 * the rows stored (values of many kinds, read back typed), the update counts, and what a batch
 * with a duplicate key in its middle reports (SQLState, update counts, the batch entry named in
 * the message) and leaves. Against aiduck also how many statements DuckDB prepared for a batch.
 *
 * Usage: java -cp postgresql.jar JdbcBulk.java HOST PORT USER DATABASE SCHEMA
 * Run against aiduck and against PostgreSQL 15 by test/clients/bulk-inserts.test.ts, which compares the two.
 */
public class JdbcBulk {
  static final Map<String, Object> out = new LinkedHashMap<>();
  static final long[] NUMBERS = {0, 1, -1, 2147483647L, -2147483648L, 2147483648L, -9007199254740993L, Long.MAX_VALUE};
  static final String[] DECIMALS = {"1.5", "-0.0001", "12345678.1234", "3", "0.00005", "-99999999.9999", "2.50"};
  static final double[] FLOATS = {0.1, -1e-05, 1e300, 2.5, -0.0, 123456.789, 5e-324};
  static final String[] STRINGS = {"plain", "it's", "back\\slash", "üñí ☃", "", "{1,2}", "\\x00ff", null};

  static String json(Object v) {
    if (v == null) return "null";
    if (v instanceof String s) return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    if (v instanceof Number || v instanceof Boolean) return v.toString();
    if (v instanceof Map<?, ?> m) {
      List<String> parts = new ArrayList<>();
      for (Map.Entry<?, ?> e : m.entrySet()) parts.add(json(e.getKey().toString()) + ":" + json(e.getValue()));
      return "{" + String.join(",", parts) + "}";
    }
    if (v instanceof List<?> l) {
      List<String> parts = new ArrayList<>();
      for (Object o : l) parts.add(json(o));
      return "[" + String.join(",", parts) + "]";
    }
    if (v instanceof int[] a) {
      List<Object> l = new ArrayList<>();
      for (int x : a) l.add(x);
      return json(l);
    }
    return json(v.toString());
  }

  static Connection connect(String[] a, boolean rewrite) throws Exception {
    Properties p = new Properties();
    p.setProperty("user", a[2]);
    p.setProperty("sslmode", "disable");
    if (rewrite) p.setProperty("reWriteBatchedInserts", "true");
    Connection c = DriverManager.getConnection("jdbc:postgresql://" + a[0] + ":" + a[1] + "/" + a[3], p);
    c.setAutoCommit(false);
    return c;
  }

  static void fresh(Connection c, String table) throws Exception {
    try (Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + table);
      s.execute("CREATE TABLE " + table + " (id integer PRIMARY KEY, i8 bigint, d numeric(12,4), f double precision, s text, b boolean, raw bytea, dt date)");
    }
    c.commit();
  }

  static void addRow(PreparedStatement ps, int id, int k) throws Exception {
    ps.setInt(1, id);
    if (k % 11 == 0) ps.setNull(2, Types.BIGINT); else ps.setLong(2, NUMBERS[k % NUMBERS.length]);
    ps.setBigDecimal(3, new BigDecimal(DECIMALS[k % DECIMALS.length]));
    ps.setDouble(4, FLOATS[k % FLOATS.length]);
    ps.setString(5, STRINGS[k % STRINGS.length]);
    if (k % 3 == 2) ps.setNull(6, Types.BOOLEAN); else ps.setBoolean(6, k % 3 == 0);
    if (k % 5 == 0) ps.setNull(7, Types.BINARY); else ps.setBytes(7, new byte[] {(byte) k, (byte) 255, 0, 1});
    ps.setDate(8, java.sql.Date.valueOf(java.time.LocalDate.of(2020, 1, 1).plusDays(k)));
    ps.addBatch();
  }

  static List<Object> read(Connection c, String table) throws Exception {
    List<Object> rows = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + table + " ORDER BY id")) {
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        row.add(rs.getInt(1));
        long i8 = rs.getLong(2);
        row.add(rs.wasNull() ? null : Long.toString(i8));
        row.add(rs.getBigDecimal(3) == null ? null : rs.getBigDecimal(3).toPlainString());
        row.add(Double.toString(rs.getDouble(4)));
        row.add(rs.getString(5));
        boolean b = rs.getBoolean(6);
        row.add(rs.wasNull() ? null : b);
        byte[] raw = rs.getBytes(7);
        row.add(raw == null ? null : java.util.HexFormat.of().formatHex(raw));
        row.add(rs.getDate(8).toString());
        rows.add(row);
      }
    }
    c.commit();
    return rows;
  }

  static int prepares(Connection c, boolean aiduck) throws Exception {
    if (!aiduck) return 0;
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW aiduck.statement_prepares")) {
      rs.next();
      return Integer.parseInt(rs.getString(1));
    }
  }

  static final String INSERT = "INSERT INTO %s (id, i8, d, f, s, b, raw, dt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

  /** A batch of `rows` rows (executeBatch every `every`); the update counts' sum and length. */
  static void batch(String[] a, boolean rewrite, boolean aiduck, String table, int rows, int every) throws Exception {
    try (Connection c = connect(a, rewrite)) {
      fresh(c, table);
      int before = prepares(c, aiduck);
      long sum = 0;
      int count = 0;
      try (PreparedStatement ps = c.prepareStatement(String.format(INSERT, table))) {
        for (int k = 0; k < rows; k++) {
          addRow(ps, k + 1, k);
          if ((k + 1) % every == 0 || k + 1 == rows) {
            for (int n : ps.executeBatch()) {
              sum += n;
              count++;
            }
          }
        }
      }
      c.commit();
      out.put("prepares." + table, prepares(c, aiduck) - before);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("updateCountSum", sum);
      r.put("updateCounts", count);
      r.put("rows", read(c, table));
      out.put(table, r);
    }
  }

  /** A batch of 300 rows whose row 200 repeats row 120's key. */
  static void failing(String[] a, boolean rewrite, String table) throws Exception {
    try (Connection c = connect(a, rewrite)) {
      fresh(c, table);
      Map<String, Object> r = new LinkedHashMap<>();
      try (PreparedStatement ps = c.prepareStatement(String.format(INSERT, table))) {
        for (int k = 0; k < 300; k++) addRow(ps, k == 200 ? 121 : k + 1, k);
        ps.executeBatch();
        r.put("error", null);
      } catch (BatchUpdateException e) {
        r.put("sqlState", e.getSQLState());
        r.put("updateCounts", e.getUpdateCounts());
        String m = e.getMessage();
        r.put("entry", m.substring(0, m.indexOf(' ', m.indexOf("entry ") + 6)));
      }
      c.rollback();
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
        rs.next();
        r.put("left", rs.getInt(1));
      }
      c.commit();
      out.put(table, r);
    }
  }

  public static void main(String[] args) throws Exception {
    boolean aiduck;
    try (Connection c = connect(args, false); Statement s = c.createStatement()) {
      boolean is;
      try {
        s.executeQuery("SHOW aiduck.statement_prepares").close();
        is = true;
      } catch (Exception e) {
        is = false;
      }
      aiduck = is;
    }
    batch(args, false, aiduck, "jdbc_batch", 2000, 1000);
    batch(args, true, aiduck, "jdbc_rewrite", 2000, 1000);
    batch(args, false, aiduck, "jdbc_small", 10, 3);
    failing(args, false, "jdbc_dup");
    failing(args, true, "jdbc_dup_rewrite");
    System.out.println(json(out));
  }
}
