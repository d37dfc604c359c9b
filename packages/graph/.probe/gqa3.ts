import { runOp, rnd } from './h';
const N=4,Nkv=2,H=16,B=1,S=1,P=5;
const query=rnd(B*S*N*H), key=rnd(B*S*Nkv*H), value=rnd(B*S*Nkv*H), pk=rnd(B*Nkv*P*H), pv=rnd(B*Nkv*P*H);
const cos=rnd(64*8), sin=rnd(64*8);
async function go(pos?: number) {
 const feeds:any[]=[{name:'q',dtype:'float32',dims:[B,S,N*H],data:query},{name:'k',dtype:'float32',dims:[B,S,Nkv*H],data:key},{name:'v',dtype:'float32',dims:[B,S,Nkv*H],data:value},
 {name:'pk',dtype:'float32',dims:[B,Nkv,P,H],data:pk},{name:'pv',dtype:'float32',dims:[B,Nkv,P,H],data:pv},
 {name:'sl',dtype:'int32',dims:[B],data:new Int32Array([P])},{name:'tl',dtype:'int32',dims:[],data:new Int32Array([P+1])},
 {name:'cos',dtype:'float32',dims:[64,8],data:cos},{name:'sin',dtype:'float32',dims:[64,8],data:sin},
 pos===undefined?null:{name:'pid',dtype:'int64',dims:[B,S],data:new BigInt64Array([BigInt(pos)])}];
 while(feeds[feeds.length-1]===null) feeds.pop();
 try { const r = await runOp('GroupQueryAttention','com.microsoft',feeds,[['o',3],['a',4],['b',4]],{num_heads:{type:'int',value:N},kv_num_heads:{type:'int',value:Nkv},do_rotary:{type:'int',value:1}});
 return (r.o.data as Float32Array).slice(0,4); } catch(e:any) { return e.message.slice(0,300); }
}
console.log('none', await go()); console.log('pos5', await go(5)); console.log('pos9', await go(9));
