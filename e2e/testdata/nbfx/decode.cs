// Reads binary XML documents with .NET's own XmlDictionaryReader, for the
// differential test e2e/nbfx_mono_test.go: each stdin line is
// "name<TAB>hex"; each stdout line is "name<TAB>" and the document in the
// test's compact form (<{ns}local a="v">text</{ns}local>), or "ERROR ...".
// Dictionary id 2k is the string "str2k" (the static, even ids).
using System;
using System.Text;
using System.Xml;

class Decode {
    static string Name(XmlReader r) {
        return r.NamespaceURI == "" ? r.LocalName : "{" + r.NamespaceURI + "}" + r.LocalName;
    }

    static void Main() {
        var dict = new XmlDictionary();
        for (int i = 0; i < 4096; i++) dict.Add("str" + (2 * i));
        string line;
        while ((line = Console.ReadLine()) != null) {
            var parts = line.Split('\t');
            var hex = parts[1];
            var b = new byte[hex.Length / 2];
            for (int i = 0; i < b.Length; i++) b[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
            var sb = new StringBuilder();
            try {
                var r = XmlDictionaryReader.CreateBinaryReader(b, 0, b.Length, dict, XmlDictionaryReaderQuotas.Max);
                while (r.Read()) {
                    switch (r.NodeType) {
                    case XmlNodeType.Element:
                        bool empty = r.IsEmptyElement;
                        string n = Name(r);
                        sb.Append("<" + n);
                        if (r.MoveToFirstAttribute()) {
                            do {
                                if (r.NamespaceURI != "http://www.w3.org/2000/xmlns/")
                                    sb.Append(" " + Name(r) + "=\"" + r.Value + "\"");
                            } while (r.MoveToNextAttribute());
                            r.MoveToElement();
                        }
                        sb.Append(">");
                        if (empty) sb.Append("</" + n + ">");
                        break;
                    case XmlNodeType.Text:
                        sb.Append(r.Value);
                        break;
                    case XmlNodeType.EndElement:
                        sb.Append("</" + Name(r) + ">");
                        break;
                    }
                }
            } catch (Exception e) {
                sb.Clear();
                sb.Append("ERROR " + e.Message.Split('\n')[0]);
            }
            Console.WriteLine(parts[0] + "\t" + sb.ToString());
        }
    }
}
