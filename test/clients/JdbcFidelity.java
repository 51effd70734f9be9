import java.math.BigDecimal;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The same rows of many types inserted through pgJDBC three ways against one server — executeBatch,
 * executeBatch with reWriteBatchedInserts, and executeUpdate row by row — with setInt, setShort,
 * setLong, setBigDecimal, setFloat, setDouble (NaN, Infinity, -0), setString, setBoolean, setBytes,
 * setDate, setTimestamp, setObject, setArray and setNull of several types; prints JSON: each way's
 * rows read back as the server's text, and what a batch with a duplicate key in its middle reports
 * (SQLState, the rows left after rollback). Against aiduck also how many statements DuckDB prepared.
 *
 * Usage: java -cp postgresql.jar JdbcFidelity.java HOST PORT USER DATABASE SCHEMA
 * Run against aiduck and PostgreSQL 15 by test/clients/bulk-fidelity.test.ts, which compares them.
 */
public class JdbcFidelity {
  static final String COLUMNS = "(id integer PRIMARY KEY, sm smallint, i8 bigint, n numeric(10,3), u numeric, r real, d double precision, "
      + "t text, b boolean, raw bytea, dt date, ts timestamp, tz timestamptz, ia integer[], ta text[], uu uuid, j jsonb)";
  static final String INSERT = "INSERT INTO %s (id, sm, i8, n, u, r, d, t, b, raw, dt, ts, tz, ia, ta, uu, j) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  static final int COLUMN_COUNT = 17;

  static String json(Object v) {
    if (v == null) return "null";
    if (v instanceof String s) {
      StringBuilder b = new StringBuilder("\"");
      for (char ch : s.toCharArray()) {
        if (ch == '"' || ch == '\\') b.append('\\').append(ch);
        else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
        else b.append(ch);
      }
      return b.append('"').toString();
    }
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
      s.execute("CREATE TABLE " + table + " " + COLUMNS);
    }
    c.commit();
  }

  /** Row k's values, set as a driver user sets them; every kind of value shows up in a few rows. */
  static void setRow(Connection c, PreparedStatement ps, int id, int k) throws Exception {
    ps.setInt(1, id);
    switch (k % 4) {
      case 0 -> ps.setShort(2, Short.MAX_VALUE);
      case 1 -> ps.setShort(2, Short.MIN_VALUE);
      case 2 -> ps.setNull(2, Types.SMALLINT);
      default -> ps.setObject(2, 7);
    }
    long[] longs = {Long.MAX_VALUE, Long.MIN_VALUE, 0, -9007199254740993L, 2147483648L};
    if (k % 6 == 5) ps.setNull(3, Types.BIGINT); else ps.setLong(3, longs[k % longs.length]);
    String[] decimals = {"1.0005", "-1.0005", "9999999.999", "0.125", "-0", "12.5"};
    ps.setBigDecimal(4, new BigDecimal(decimals[k % decimals.length]));
    String[] unconstrained = {"123456789012345678", "0.0000000001", "-1.5", "1E+10", "7"};
    if (k % 7 == 6) ps.setNull(5, Types.NUMERIC); else ps.setBigDecimal(5, new BigDecimal(unconstrained[k % unconstrained.length]));
    float[] floats = {1.5f, Float.NaN, Float.POSITIVE_INFINITY, -0.0f, 3.4e38f, 1.0e-45f};
    ps.setFloat(6, floats[k % floats.length]);
    double[] doubles = {0.1, Double.NaN, Double.NEGATIVE_INFINITY, -0.0, 1e308, 5e-324, 123456789.123456789};
    ps.setDouble(7, doubles[k % doubles.length]);
    String[] texts = {"plain", "it's", "back\\slash", "üñí ☃", "", "{1,2}", "\\x00ff", "tab\tnew\nline", "x".repeat(3000), null};
    ps.setString(8, texts[k % texts.length]);
    if (k % 3 == 2) ps.setNull(9, Types.BOOLEAN); else ps.setBoolean(9, k % 3 == 0);
    if (k % 5 == 0) ps.setNull(10, Types.BINARY); else ps.setBytes(10, new byte[] {(byte) k, (byte) 255, 0, 92, 1});
    ps.setDate(11, java.sql.Date.valueOf(java.time.LocalDate.of(2020, 2, 28).plusDays(k)));
    if (k % 4 == 3) ps.setNull(12, Types.TIMESTAMP); else ps.setTimestamp(12, Timestamp.valueOf("2021-03-04 05:06:07." + (123456 + k)));
    if (k % 4 == 1) ps.setNull(13, Types.TIMESTAMP_WITH_TIMEZONE);
    else ps.setObject(13, java.time.OffsetDateTime.of(2022, 1, 2, 3, 4, 5, 0, java.time.ZoneOffset.ofHours(k % 5 - 2)));
    // (pgJDBC sends the int4[] and text[] of setArray in binary, which aiduck refuses (0A000) batched or not: sent as text here)
    if (k % 5 == 4) ps.setNull(14, Types.ARRAY); else ps.setObject(14, "{" + k + ",NULL," + (-k) + "}", Types.OTHER);
    if (k % 5 == 3) ps.setNull(15, Types.ARRAY); else ps.setObject(15, "{\"a b\",NULL,\"c,d\",\"\\\"q\\\"\",\"NULL\"}", Types.OTHER);
    if (k % 3 == 1) ps.setNull(16, Types.OTHER);
    else ps.setObject(16, java.util.UUID.fromString(String.format("a0eebc99-9c0b-4ef8-bb6d-%012d", k)));
    if (k % 4 == 2) ps.setNull(17, Types.OTHER);
    else {
      org.postgresql.util.PGobject j = new org.postgresql.util.PGobject();
      j.setType("jsonb");
      j.setValue("{\"k\": " + k + ", \"s\": \"v\"}");
      ps.setObject(17, j);
    }
  }

  static List<Object> read(Connection c, String table) throws Exception {
    List<Object> rows = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + table + " ORDER BY id")) {
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (int i = 1; i <= COLUMN_COUNT; i++) {
          if (i == 10) {
            byte[] raw = rs.getBytes(i);
            row.add(raw == null ? null : java.util.HexFormat.of().formatHex(raw));
          } else row.add(rs.getString(i));
        }
        rows.add(row);
      }
    }
    c.commit();
    return rows;
  }

  static int prepares(Connection c) throws Exception {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW aiduck.statement_prepares")) {
      rs.next();
      return Integer.parseInt(rs.getString(1));
    } catch (SQLException e) {
      c.rollback();
      return -1;
    }
  }

  static final int ROWS = 60;

  /** The rows as one batch (`rewrite`: with reWriteBatchedInserts) or row by row; ids from `duplicateAt` on repeat id 1. */
  static Map<String, Object> insert(String[] a, String mode, int duplicateAt) throws Exception {
    Map<String, Object> r = new LinkedHashMap<>();
    String table = "jf_" + mode;
    try (Connection c = connect(a, mode.equals("rewrite"))) {
      fresh(c, table);
      int before = prepares(c);
      try (PreparedStatement ps = c.prepareStatement(String.format(INSERT, table))) {
        for (int k = 0; k < ROWS; k++) {
          setRow(c, ps, k == duplicateAt ? 1 : k + 1, k);
          if (mode.equals("single")) ps.executeUpdate();
          else ps.addBatch();
        }
        if (!mode.equals("single")) {
          int sum = 0;
          for (int n : ps.executeBatch()) sum += n;
          r.put("updateCountSum", sum);
        }
        c.commit();
      } catch (SQLException e) {
        SQLException first = e instanceof BatchUpdateException && e.getNextException() != null ? e.getNextException() : e;
        r.put("sqlState", first.getSQLState());
        r.put("message", first.getMessage());
        c.rollback();
      }
      if (before >= 0) r.put("prepares", prepares(c) - before);
      r.put("rows", read(c, table));
    }
    return r;
  }

  public static void main(String[] a) throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String mode : new String[] {"batch", "rewrite", "single"}) {
      out.put(mode, insert(a, mode, -1));
      out.put(mode + "_duplicate", insert(a, mode, 37));
    }
    System.out.println(json(out));
  }
}
