// Writes binary XML documents with .NET's own XmlDictionaryWriter, for the
// differential test e2e/nbfx_mono_test.go: one "name<TAB>hex" line per
// document, exercising the records .NET emits (typed values, arrays,
// dictionary strings, namespaces, comments). Dictionary id 2k is "str2k".
using System;
using System.IO;
using System.Text;
using System.Xml;

class Encode {
    static XmlDictionary dict = new XmlDictionary();
    static XmlDictionaryString[] strs = new XmlDictionaryString[64];

    delegate void Body(XmlDictionaryWriter w);

    static void Doc(string name, Body body) {
        var ms = new MemoryStream();
        var w = XmlDictionaryWriter.CreateBinaryWriter(ms, dict);
        w.WriteStartElement("root");
        body(w);
        w.WriteEndElement();
        w.Flush();
        var sb = new StringBuilder();
        foreach (var b in ms.ToArray()) sb.Append(b.ToString("x2"));
        Console.WriteLine(name + "\t" + sb.ToString());
    }

    static void Main() {
        for (int i = 0; i < strs.Length; i++) strs[i] = dict.Add("str" + (2 * i));
        Doc("ints", w => { foreach (long v in new long[] { 0, 1, -1, 127, 128, -32768, 70000, -3000000000, long.MinValue }) { w.WriteStartElement("i"); w.WriteValue(v); w.WriteEndElement(); } });
        Doc("doubles", w => { foreach (double v in new double[] { Math.PI, 1.0 / 3, double.NaN, double.NegativeInfinity, -0.0, 1e300, 1.5e-5, 2.5 }) { w.WriteStartElement("d"); w.WriteValue(v); w.WriteEndElement(); } });
        Doc("floats", w => { foreach (float v in new float[] { 1.1f, float.MaxValue, 3.5f, float.Epsilon }) { w.WriteStartElement("f"); w.WriteValue(v); w.WriteEndElement(); } });
        Doc("decimals", w => { foreach (decimal v in new decimal[] { 5.10m, -0.5m, decimal.MaxValue, 0m, 123456789012345678901234.5m }) { w.WriteStartElement("m"); w.WriteValue(v); w.WriteEndElement(); } });
        Doc("datetimes", w => {
            foreach (var v in new DateTime[] { new DateTime(2006, 5, 17, 0, 0, 0, DateTimeKind.Utc), new DateTime(2006, 5, 17, 13, 4, 5, 250, DateTimeKind.Unspecified),
                new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Local), DateTime.MaxValue, DateTime.MinValue }) { w.WriteStartElement("t"); w.WriteValue(v); w.WriteEndElement(); }
        });
        Doc("timespans", w => { foreach (var v in new TimeSpan[] { TimeSpan.Zero, TimeSpan.FromMinutes(-5.5), new TimeSpan(1, 2, 3, 4, 5), TimeSpan.MaxValue }) { w.WriteStartElement("s"); w.WriteValue(v); w.WriteEndElement(); } });
        Doc("guids", w => {
            w.WriteStartElement("g"); w.WriteValue(new Guid("00112233-4455-6677-8899-aabbccddeeff")); w.WriteEndElement();
            w.WriteStartElement("u"); w.WriteValue(new UniqueId(new Guid("00112233-4455-6677-8899-aabbccddeeff"))); w.WriteEndElement();
            w.WriteStartElement("u"); w.WriteValue(new UniqueId("not-a-guid")); w.WriteEndElement();
        });
        Doc("bytes", w => { w.WriteStartElement("b"); w.WriteBase64(new byte[] { 0, 1, 2, 250, 251, 252, 253 }, 0, 7); w.WriteEndElement(); w.WriteStartElement("b"); w.WriteBase64(new byte[300], 0, 300); w.WriteEndElement(); });
        Doc("bools", w => { w.WriteStartElement("t"); w.WriteValue(true); w.WriteEndElement(); w.WriteStartElement("f"); w.WriteValue(false); w.WriteEndElement(); });
        Doc("strings", w => {
            w.WriteElementString("s", "héllo <&> \"'");
            w.WriteElementString("e", "");
            w.WriteStartElement("long"); w.WriteString(new string('x', 300)); w.WriteEndElement();
            w.WriteStartElement("mixed"); w.WriteString("a"); w.WriteValue(1); w.WriteString("b"); w.WriteEndElement();
            w.WriteComment("a comment");
        });
        Doc("dictionary", w => {
            w.WriteStartElement("s", strs[1], strs[2]);
            w.WriteXmlnsAttribute("a", strs[3]);
            w.WriteStartAttribute("a", strs[4], strs[3]); w.WriteString(strs[5]); w.WriteEndAttribute();
            w.WriteStartAttribute(strs[6], null); w.WriteValue(42); w.WriteEndAttribute();
            w.WriteStartElement(strs[7], strs[2]); w.WriteString(strs[8]); w.WriteEndElement();
            w.WriteStartElement("p", "plain", "urn:plain"); w.WriteAttributeString("q", "attr", "urn:q", "v"); w.WriteEndElement();
            w.WriteStartElement("default", "urn:default"); w.WriteStartElement("child", "urn:default"); w.WriteEndElement(); w.WriteEndElement();
            w.WriteEndElement();
        });
        Doc("arrays", w => {
            w.WriteArray(null, "i", null, new int[] { 1, -2, 3 }, 0, 3);
            w.WriteArray(null, "l", null, new long[] { long.MaxValue, 0 }, 0, 2);
            w.WriteArray(null, "h", null, new short[] { -1, 2 }, 0, 2);
            w.WriteArray(null, "b", null, new bool[] { true, false }, 0, 2);
            w.WriteArray(null, "f", null, new float[] { 1.5f, -0.25f }, 0, 2);
            w.WriteArray(null, "d", null, new double[] { Math.E, 1e-7 }, 0, 2);
            w.WriteArray(null, "m", null, new decimal[] { 1.25m, -3m }, 0, 2);
            w.WriteArray(null, "t", null, new DateTime[] { new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc) }, 0, 1);
            w.WriteArray(null, "s", null, new TimeSpan[] { TimeSpan.FromSeconds(90) }, 0, 1);
            w.WriteArray(null, "g", null, new Guid[] { new Guid("00112233-4455-6677-8899-aabbccddeeff") }, 0, 1);
            w.WriteArray("x", "n", "urn:x", new int[] { 7, 8 }, 0, 2);
        });
    }
}
