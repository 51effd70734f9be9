// pgJDBC's DatabaseMetaData and ResultSetMetaData as DBeaver and Metabase call them, against one
// server; prints JSON. Run as a single-file program (no build step):
//   java -cp /usr/share/java/postgresql.jar JdbcMetadata.java HOST PORT USER DATABASE SCHEMA
// test/clients/jdbc.test.ts runs it against aiduck and against PostgreSQL 15 and compares the two.
import java.sql.*;
import java.util.*;

public class JdbcMetadata {
  private static final StringBuilder out = new StringBuilder("{\n");
  private static boolean first = true;

  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[3] + "?sslmode=disable";
    String schema = args[4];
    try (Connection c = DriverManager.getConnection(url, args[2], "")) {
      DatabaseMetaData md = c.getMetaData();
      step("schemas", () -> rows(md.getSchemas(null, schema)));
      step("tables", () -> rows(md.getTables(null, schema, "%", new String[] {"TABLE", "VIEW"})));
      for (String table : new String[] {"customers", "orders", "order_items", "big_orders"}) {
        step(table + ".columns", () -> rows(md.getColumns(null, schema, table, "%")));
      }
      for (String table : new String[] {"customers", "orders", "order_items"}) {
        step(table + ".primaryKeys", () -> rows(md.getPrimaryKeys(null, schema, table)));
        step(table + ".importedKeys", () -> rows(md.getImportedKeys(null, schema, table)));
        step(table + ".exportedKeys", () -> rows(md.getExportedKeys(null, schema, table)));
        step(table + ".indexInfo", () -> rows(md.getIndexInfo(null, schema, table, false, true)));
      }
      step("typeInfo", () -> rows(md.getTypeInfo()));
      step("functions", () -> rows(md.getFunctions(null, schema, "%")));
      step("resultSetMetaData", () -> {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + schema + ".customers ORDER BY id")) {
          return resultSetMetaData(rs.getMetaData());
        }
      });
      step("values", () -> {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + schema + ".customers ORDER BY id")) {
          return rows(rs);
        }
      });
    }
    out.append("\n}\n");
    System.out.print(out);
  }

  interface Call { String run() throws Exception; }

  private static void step(String name, Call call) {
    String value;
    try {
      value = call.run();
    } catch (Exception e) {
      value = "{\"error\": " + str(e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).split("\n")[0]) + "}";
    }
    out.append(first ? "" : ",\n").append(str(name)).append(": ").append(value);
    first = false;
  }

  /** All rows as objects of column label to the driver's getString (what tools display). */
  private static String rows(ResultSet rs) throws SQLException {
    try (rs) {
      ResultSetMetaData m = rs.getMetaData();
      List<String> rows = new ArrayList<>();
      while (rs.next()) {
        List<String> fields = new ArrayList<>();
        for (int i = 1; i <= m.getColumnCount(); i++) fields.add(str(m.getColumnLabel(i)) + ": " + str(rs.getString(i)));
        rows.add("{" + String.join(", ", fields) + "}");
      }
      return "[" + String.join(",\n  ", rows) + "]";
    }
  }

  private static String resultSetMetaData(ResultSetMetaData m) throws SQLException {
    List<String> cols = new ArrayList<>();
    for (int i = 1; i <= m.getColumnCount(); i++) {
      cols.add("{" + String.join(", ",
          "\"name\": " + str(m.getColumnName(i)),
          "\"tableName\": " + str(m.getTableName(i)),
          "\"schemaName\": " + str(m.getSchemaName(i)),
          "\"typeName\": " + str(m.getColumnTypeName(i)),
          "\"type\": " + m.getColumnType(i),
          "\"className\": " + str(m.getColumnClassName(i)),
          "\"nullable\": " + m.isNullable(i),
          "\"precision\": " + m.getPrecision(i),
          "\"scale\": " + m.getScale(i),
          "\"displaySize\": " + m.getColumnDisplaySize(i),
          "\"autoIncrement\": " + m.isAutoIncrement(i)) + "}");
    }
    return "[" + String.join(",\n  ", cols) + "]";
  }

  private static String str(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\') b.append('\\').append(ch);
      else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
      else b.append(ch);
    }
    return b.append('"').toString();
  }
}
