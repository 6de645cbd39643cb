import Foundation

/// A log-log roofline chart: attainable GFLOP/s against arithmetic intensity, the bandwidth
/// slope and the F32 / int8 compute ceilings, and the measured decode steps as points.
public enum RooflineSVG {
    public static func render(peaks: MachinePeaks, points: [RooflinePoint], title: String) -> String {
        let w = 760.0, h = 480.0, left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let xs = points.map(\.arithmeticIntensity) + [peaks.ridgeF32]
        let xMin = pow(10, floor(log10(max(1e-3, (xs.min() ?? 0.1) / 2))))
        let xMax = pow(10, ceil(log10(max(xs.max() ?? 10, peaks.int8GOps / peaks.readGBps) * 2)))
        let achieved = points.map { $0.mfu * peaks.f32GFlops }
        let yMin = pow(10, floor(log10(max(1e-3, min(achieved.min() ?? 1, peaks.readGBps * xMin) / 2))))
        let yMax = pow(10, ceil(log10(peaks.int8GOps * 1.5)))
        func x(_ v: Double) -> Double { left + (log10(v) - log10(xMin)) / (log10(xMax) - log10(xMin)) * (w - left - right) }
        func y(_ v: Double) -> Double { h - bottom - (log10(v) - log10(yMin)) / (log10(yMax) - log10(yMin)) * (h - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(w / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>

        """
        // Grid and decade labels.
        var d = xMin
        while d <= xMax * 1.0001 {
            s += "<line x1=\"\(f(x(d)))\" y1=\"\(f(top))\" x2=\"\(f(x(d)))\" y2=\"\(f(h - bottom))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(x(d)))\" y=\"\(f(h - bottom + 16))\" text-anchor=\"middle\">\(label(d))</text>\n"
            d *= 10
        }
        d = yMin
        while d <= yMax * 1.0001 {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(d)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(d)))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(d) + 4))\" text-anchor=\"end\">\(label(d))</text>\n"
            d *= 10
        }
        s += "<text x=\"\(f(w / 2))\" y=\"\(f(h - 12))\" text-anchor=\"middle\">arithmetic intensity (FLOP/byte)</text>\n"
        s += "<text transform=\"translate(16,\(f(h / 2))) rotate(-90)\" text-anchor=\"middle\">GFLOP/s</text>\n"
        // Roofs: bandwidth slope up to each compute ceiling.
        for (peak, name, color) in [(peaks.f32GFlops, "F32 FMA", "#d9480f"), (peaks.int8GOps, "int8 dot", "#1971c2")] {
            let ridge = peak / peaks.readGBps
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(f(x(xMin))),\(f(y(peaks.readGBps * xMin))) \(f(x(ridge))),\(f(y(peak))) \(f(x(xMax))),\(f(y(peak)))\"/>\n"
            s += "<text x=\"\(f(x(xMax) - 4))\" y=\"\(f(y(peak) - 6))\" text-anchor=\"end\" fill=\"\(color)\">\(name) \(f(peak)) G/s, ridge \(String(format: "%.2f", ridge)) FLOP/B</text>\n"
        }
        s += "<text x=\"\(f(x(xMin) + 6))\" y=\"\(f(y(peaks.readGBps * xMin) - 8))\" fill=\"#555\">read \(f(peaks.readGBps)) GB/s</text>\n"
        for (p, a) in zip(points, achieved) {
            s += "<circle cx=\"\(f(x(p.arithmeticIntensity)))\" cy=\"\(f(y(max(a, yMin))))\" r=\"5\" fill=\"#2b8a3e\"><title>batch \(p.batch): \(f(p.tokensPerSecond)) tok/s, MBU \(Int(p.mbu * 100))%, MFU \(Int(p.mfu * 100))%, \(p.regime)</title></circle>"
            s += "<text x=\"\(f(x(p.arithmeticIntensity) + 7))\" y=\"\(f(y(max(a, yMin)) + 4))\" fill=\"#2b8a3e\">B=\(p.batch)</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    static func label(_ v: Double) -> String {
        v >= 1 ? String(format: "%g", v) : String(format: "%g", v)
    }

    static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
