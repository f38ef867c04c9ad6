<?xml version="1.0" encoding="UTF-8"?>
<!-- Renders an aggregator RSS 2.0 or Atom 1.0 feed as a readable page when it is opened
     in a browser. Feed readers ignore it. Item HTML is not rendered (browsers differ on
     disable-output-escaping); titles, dates and sources are shown, linked. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="(rss/channel/title | atom:feed/atom:title)[1]"/>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
:root{color-scheme:light dark;--fg:#1d232b;--muted:#5b6573;--bg:#fbfbfa;--card:#fff;--line:#e2e4e8;--accent:#0b5fbf}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#a3acb8;--bg:#15181c;--card:#1d2127;--line:#2e343c;--accent:#7ab4ff}}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem 4rem}
h1{margin:0 0 .25rem;font-size:1.8rem}
.note{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.8rem 1.1rem;margin:1rem 0}
.note code{word-break:break-all}
a{color:var(--accent)}
ol{padding-left:1.3rem}
li{margin:.55rem 0}
.meta{display:block;color:var(--muted);font-size:.82rem}
.desc{color:var(--muted)}
        </style>
      </head>
      <body>
        <main>
          <xsl:apply-templates select="rss/channel | atom:feed"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="note">
    <xsl:param name="self"/>
    <xsl:param name="site"/>
    <div class="note">
      This is a web feed. Copy its address into your feed reader to subscribe:
      <code><xsl:value-of select="$self"/></code>
      <br/><a href="{$site}">All topics</a>
    </div>
  </xsl:template>

  <xsl:template match="rss/channel">
    <h1><xsl:value-of select="title"/></h1>
    <p class="desc"><xsl:value-of select="description"/></p>
    <xsl:call-template name="note">
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="site" select="link"/>
    </xsl:call-template>
    <ol>
      <xsl:for-each select="item">
        <li>
          <a href="{link}"><xsl:value-of select="title"/></a>
          <span class="meta">
            <xsl:value-of select="pubDate"/>
            <xsl:if test="source"> · <xsl:value-of select="source"/></xsl:if>
          </span>
        </li>
      </xsl:for-each>
    </ol>
  </xsl:template>

  <xsl:template match="atom:feed">
    <h1><xsl:value-of select="atom:title"/></h1>
    <p class="desc"><xsl:value-of select="atom:subtitle"/></p>
    <xsl:call-template name="note">
      <xsl:with-param name="self" select="atom:link[@rel='self']/@href"/>
      <xsl:with-param name="site" select="atom:link[@rel='alternate']/@href"/>
    </xsl:call-template>
    <ol>
      <xsl:for-each select="atom:entry">
        <li>
          <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
          <span class="meta">
            <xsl:value-of select="translate(substring(atom:updated, 1, 16), 'T', ' ')"/> UTC
            <xsl:if test="atom:source/atom:title"> · <xsl:value-of select="atom:source/atom:title"/></xsl:if>
          </span>
        </li>
      </xsl:for-each>
    </ol>
  </xsl:template>
</xsl:stylesheet>
