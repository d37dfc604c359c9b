import { runOp, rnd } from './h';
const Hd=8; const x=rnd(Hd,1e-6), skip=new Float32Array(Hd), g=new Float32Array(Hd).fill(1);
const r=await runOp('SkipSimplifiedLayerNormalization','com.microsoft',[{name:'x',dtype:'float32',dims:[1,1,Hd],data:x},{name:'sk',dtype:'float32',dims:[1,1,Hd],data:skip},{name:'g',dtype:'float32',dims:[Hd],data:g}],[['y',3]],{});
let ss=0; for (const v of x) ss+=v*v; const ms=ss/Hd;
const y0=(r.y.data as Float32Array)[0]; const impliedEps = (x[0]/y0)**2 - ms; console.log('meansq',ms,'implied eps',impliedEps);
const r2=await runOp('SimplifiedLayerNormalization','',[{name:'x',dtype:'float32',dims:[1,Hd],data:x},{name:'g',dtype:'float32',dims:[Hd],data:g}],[['y',2]],{});
const y2=(r2.y.data as Float32Array)[0]; console.log('SLN implied eps', (x[0]/y2)**2 - ms);
