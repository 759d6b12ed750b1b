data_callback([
 {
  "title": "手机厂商自研影像NPU，端侧大模型成新卖点",
  "digest": "",
  "docurl": "https://www.163.com/dy/article/HK2B3C4D0511ABCD.html",
  "commenturl": "https://comment.tie.163.com/HK2B3C4D0511ABCD.html",
  "tienum": 120,
  "tlastid": "",
  "tlink": "",
  "label": "",
  "keywords": [
   {
    "akey_link": "https://tech.163.com/keywords/6/e/624b673a/1.html",
    "keyname": "手机"
   }
  ],
  "time": "10/14/2022 10:05:31",
  "newstype": "article",
  "imgurl": "https://nimg.ws.126.net/a.jpg",
  "add1": "",
  "add2": "",
  "add3": "",
  "pics3": [],
  "channelname": "tech"
 },
 {
  "title": "智能驾驶芯片出货量季度排名出炉",
  "digest": "",
  "docurl": "https://www.163.com/dy/article/HK1Z9Y8X0511EFGH.html",
  "commenturl": "https://comment.tie.163.com/HK1Z9Y8X0511EFGH.html",
  "tienum": 36,
  "tlastid": "",
  "tlink": "",
  "label": "",
  "keywords": [],
  "time": "10/13/2022 21:47:02",
  "newstype": "article",
  "imgurl": "",
  "add1": "",
  "add2": "",
  "add3": "",
  "pics3": [],
  "channelname": "tech"
 }
])
